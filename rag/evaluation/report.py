"""Evaluation output for people: a terminal table and an HTML page with plots."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

COLUMNS = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10", "answer_accuracy", "span_f1", "abstain_precision", "abstain_recall", "latency_p50_ms", "latency_p95_ms")
SHORT = {"answer_accuracy": "ans_acc", "abstain_precision": "abst_P", "abstain_recall": "abst_R", "latency_p50_ms": "p50_ms", "latency_p95_ms": "p95_ms"}


def table_rows(report: dict) -> list[list[str]]:
    rows = []
    for method in report["methods"]:
        for scope in ["all", *report["langs"]]:
            s = report["summary"][method][scope]
            cells = [f"{s[c]:.1f}" if c.endswith("_ms") else f"{s[c]:.3f}" for c in COLUMNS]
            rows.append([method, scope, str(int(s["questions"])), *cells])
    return rows


METHOD_NAMES = {"bm25": "BM25", "dense": "dense", "hybrid": "hybrid"}
MARKDOWN = (("Hit@1", "hit@1"), ("Hit@5", "hit@5"), ("Hit@10", "hit@10"), ("MRR@10", "mrr@10"), ("answer acc.", "answer_accuracy"), ("span F1", "span_f1"))


def markdown_table(report: dict) -> str:
    """The README's quality table: every method and scope, quality only (latency varies run to
    run; quality does not). The shipped method is in bold."""
    header = ["method", "scope", *(name for name, _ in MARKDOWN), "abstain P / R"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for scope in ["all", *report["langs"]]:
        for method in report["methods"]:
            s = report["summary"][method][scope]
            name = METHOD_NAMES.get(method, method)
            cells = [f"**{name}**" if method == report["shipped"] else name, scope, *(f"{s[key]:.3f}" for _, key in MARKDOWN)]
            precision, recall = s["abstain_precision"], s["abstain_recall"]
            cells.append("" if precision != precision or recall != recall else f"{precision:.2f} / {recall:.2f}")  # nan: no abstention to judge
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def print_table(report: dict) -> None:
    header = ["method", "scope", "n", *(SHORT.get(c, c) for c in COLUMNS)]
    rows = table_rows(report)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)))


def _plot(report: dict) -> str:
    """Hit@k curves per method, one panel per language, as a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scopes = ["all", *report["langs"]]
    fig, axes = plt.subplots(1, len(scopes) + 1, figsize=(4 * (len(scopes) + 1), 3.4), sharey=True)
    ks = [1, 3, 5, 10]
    for ax, scope in zip(axes, scopes):
        for method in report["methods"]:
            s = report["summary"][method][scope]
            ax.plot(ks, [s[f"hit@{k}"] for k in ks], marker="o", label=method)
        ax.set_title(f"Hit@k — {scope}")
        ax.set_xticks(ks)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].legend()
    ax = axes[-1]
    width = 0.8 / len(report["methods"])
    for j, method in enumerate(report["methods"]):
        values = [report["summary"][method][s]["answer_accuracy"] for s in scopes]
        ax.bar([i + j * width for i in range(len(scopes))], values, width, label=method)
    ax.set_xticks([i + width for i in range(len(scopes))], scopes)
    ax.set_title("answer accuracy")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def write_html(report: dict, path: Path) -> None:
    header = "".join(f"<th>{html.escape(h)}</th>" for h in ["method", "scope", "n", *COLUMNS])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table_rows(report))
    misses = [
        r for r in report["rows"][report["shipped"]] if (r["answerable"] and not r["answer_accuracy"]) or (r["abstained"] != (not r["answerable"]))
    ]
    miss_rows = "".join(
        f"<tr><td>{html.escape(r['id'])}</td><td>{r['lang']}</td><td>{html.escape(r['question'])}</td>"
        f"<td>{html.escape(str(r['answer']))}</td><td>{r['hit@5']:.0f}</td></tr>"
        for r in misses
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>rag eval</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 6px;font-size:13px}}</style>
</head><body><h1>Evaluation of {html.escape(report.get('qa_file', ''))}</h1>
<p>Shipped method: <b>{report['shipped']}</b>. Hits: a retrieved chunk holding an evidence phrase (whitespace and script folded).</p>
<img alt="Hit@k per method and language" src="data:image/png;base64,{_plot(report)}">
<h2>Metrics</h2><table><tr>{header}</tr>{body}</table>
<h2>Misses of the shipped method ({len(misses)})</h2>
<table><tr><th>id</th><th>lang</th><th>question</th><th>answer</th><th>hit@5</th></tr>{miss_rows}</table>
</body></html>"""
    path.write_text(page, encoding="utf-8")
