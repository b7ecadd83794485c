"""Where an index's vectors and postings are searched: the local files or Milvus (rag/store/base.py)."""
