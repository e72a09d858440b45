#!/usr/bin/python3
"""Saves a torch.nn.Transformer's weights and hyperparameters for glassbox (torch + numpy only).

The folder gets model.safetensors (f32, PyTorch's own parameter names such as
encoder.layers.0.self_attn.in_proj_weight) and config.json (model_type "torch_transformer" with the
module's hyperparameters under nn.Transformer's argument names). Run it with glassbox:

    glassbox trace -m DIR --src src.npy --tgt tgt.npy --hooks 'encoder.blocks.0.attn.hook_pattern' -o out

From Python, for any nn.Transformer instance (or one nested in your model):

    sys.path.insert(0, "tools"); import export_torch_transformer
    export_torch_transformer.save(model.transformer, "my_transformer")

From the command line:

    export_torch_transformer.py model.pt -o DIR      # a module saved with torch.save(module)
    export_torch_transformer.py weights.pt --nhead 8 -o DIR   # a state_dict (+ what it cannot tell)
    export_torch_transformer.py --new --seed 0 -o DIR  # a fresh nn.Transformer() (any flags below)
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gbpy import safetensors  # noqa: E402

FORMAT_VERSION = 1


class ExportError(Exception):
    pass


def _activation_name(act):
    """'relu', 'gelu' (erf) or 'gelu_tanh' for what a layer's activation is, else ExportError."""
    if isinstance(act, str):
        if act in ("relu", "gelu"):
            return act
    elif act is F.relu or isinstance(act, nn.ReLU):
        return "relu"
    elif act is F.gelu:
        return "gelu"
    elif isinstance(act, nn.GELU):
        return "gelu_tanh" if getattr(act, "approximate", "none") == "tanh" else "gelu"
    raise ExportError(f"activation {act!r} is not supported (glassbox runs relu and gelu)")


def _check_attention(name, mha, d_model):
    if not mha._qkv_same_embed_dim or mha.in_proj_weight is None:
        raise ExportError(f"{name}: separate q/k/v projections (kdim/vdim) are not supported")
    if mha.bias_k is not None or mha.add_zero_attn:
        raise ExportError(f"{name}: add_bias_kv / add_zero_attn are not supported")
    if mha.embed_dim != d_model:
        raise ExportError(f"{name}: embed_dim {mha.embed_dim} differs from d_model {d_model}")


def _one_value(name, values):
    values = set(values)
    if len(values) != 1:
        raise ExportError(f"layers disagree on {name}: {sorted(map(str, values))}")
    return values.pop()


def _stack(name, stack, layer_type):
    if not isinstance(stack, (nn.TransformerEncoder, nn.TransformerDecoder)):
        raise ExportError(f"{name} is a {type(stack).__name__}, not a TransformerEncoder/Decoder")
    for i, layer in enumerate(stack.layers):
        if not isinstance(layer, layer_type):
            raise ExportError(f"{name}.layers.{i} is a {type(layer).__name__}, "
                              f"not a {layer_type.__name__}")
    if stack.norm is not None and not isinstance(stack.norm, nn.LayerNorm):
        raise ExportError(f"{name}.norm is a {type(stack.norm).__name__}, not a LayerNorm")
    return list(stack.layers)


def config_of(model):
    """The hyperparameters of an nn.Transformer, checked to be ones glassbox runs."""
    if not isinstance(model, nn.Transformer):
        raise ExportError(f"expected a torch.nn.Transformer, got {type(model).__name__}")
    enc = _stack("encoder", model.encoder, nn.TransformerEncoderLayer)
    dec = _stack("decoder", model.decoder, nn.TransformerDecoderLayer)
    if not enc or not dec:
        raise ExportError("the encoder and the decoder need at least one layer each")
    d_model = enc[0].self_attn.embed_dim
    for i, layer in enumerate(enc):
        _check_attention(f"encoder.layers.{i}.self_attn", layer.self_attn, d_model)
    for i, layer in enumerate(dec):
        _check_attention(f"decoder.layers.{i}.self_attn", layer.self_attn, d_model)
        _check_attention(f"decoder.layers.{i}.multihead_attn", layer.multihead_attn, d_model)
    norms = [m for m in model.modules() if isinstance(m, nn.LayerNorm)]
    attns = [m for m in model.modules() if isinstance(m, nn.MultiheadAttention)]
    layers = enc + dec
    return {
        "model_type": "torch_transformer",
        "format_version": FORMAT_VERSION,
        "d_model": d_model,
        "nhead": _one_value("nhead", (m.num_heads for m in attns)),
        "num_encoder_layers": len(enc),
        "num_decoder_layers": len(dec),
        "dim_feedforward": _one_value("dim_feedforward", (l.linear1.out_features for l in layers)),
        "activation": _one_value("activation", (_activation_name(l.activation) for l in layers)),
        "norm_first": _one_value("norm_first", (bool(l.norm_first) for l in layers)),
        "layer_norm_eps": _one_value("layer_norm_eps", (float(n.eps) for n in norms)),
        "batch_first": _one_value("batch_first", (bool(m.batch_first) for m in attns)),
        "encoder_norm": model.encoder.norm is not None,
        "decoder_norm": model.decoder.norm is not None,
    }


def _linear(prefix, lin, out):
    out[prefix + ".weight"] = lin.weight
    out[prefix + ".bias"] = (lin.bias if lin.bias is not None
                             else torch.zeros(lin.out_features))


def _layer_norm(prefix, ln, out):
    # Without elementwise affine, LayerNorm is LayerNorm with weight 1 and bias 0.
    d = ln.normalized_shape[0]
    out[prefix + ".weight"] = ln.weight if ln.weight is not None else torch.ones(d)
    out[prefix + ".bias"] = ln.bias if ln.bias is not None else torch.zeros(d)


def _attention(prefix, mha, out):
    out[prefix + ".in_proj_weight"] = mha.in_proj_weight
    out[prefix + ".in_proj_bias"] = (mha.in_proj_bias if mha.in_proj_bias is not None
                                     else torch.zeros(3 * mha.embed_dim))
    _linear(prefix + ".out_proj", mha.out_proj, out)


def weights_of(model):
    """name -> f32 tensor under PyTorch's parameter names (absent biases written as zeros)."""
    out = {}
    for i, layer in enumerate(model.encoder.layers):
        p = f"encoder.layers.{i}."
        _attention(p + "self_attn", layer.self_attn, out)
        _linear(p + "linear1", layer.linear1, out)
        _linear(p + "linear2", layer.linear2, out)
        _layer_norm(p + "norm1", layer.norm1, out)
        _layer_norm(p + "norm2", layer.norm2, out)
    for i, layer in enumerate(model.decoder.layers):
        p = f"decoder.layers.{i}."
        _attention(p + "self_attn", layer.self_attn, out)
        _attention(p + "multihead_attn", layer.multihead_attn, out)
        _linear(p + "linear1", layer.linear1, out)
        _linear(p + "linear2", layer.linear2, out)
        for n in ("norm1", "norm2", "norm3"):
            _layer_norm(p + n, getattr(layer, n), out)
    if model.encoder.norm is not None:
        _layer_norm("encoder.norm", model.encoder.norm, out)
    if model.decoder.norm is not None:
        _layer_norm("decoder.norm", model.decoder.norm, out)
    return {k: v.detach().to(torch.float32).cpu().contiguous() for k, v in out.items()}


def save(model, out_dir):
    """Writes out_dir/model.safetensors and out_dir/config.json for an nn.Transformer."""
    config = config_of(model)
    tensors = weights_of(model)
    os.makedirs(out_dir, exist_ok=True)
    safetensors.save_file(tensors, os.path.join(out_dir, "model.safetensors"),
                          metadata={"format": "pt", "source": "torch.nn.Transformer"})
    # The config is written last: a folder with a config.json is complete.
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    return config


def _hyperparameters(args):
    hp = {"d_model": args.d_model, "nhead": args.nhead,
          "num_encoder_layers": args.num_encoder_layers,
          "num_decoder_layers": args.num_decoder_layers,
          "dim_feedforward": args.dim_feedforward, "activation": args.activation,
          "layer_norm_eps": args.layer_norm_eps, "batch_first": args.batch_first,
          "norm_first": args.norm_first, "dropout": 0.0}
    return {k: v for k, v in hp.items() if v is not None}


def _from_state_dict(sd, args):
    """Builds an nn.Transformer matching a state_dict: sizes from its shapes, the rest from flags."""
    def count(prefix):
        return len({k.split(".")[2] for k in sd if k.startswith(prefix)})
    try:
        d_model = sd["encoder.layers.0.self_attn.in_proj_weight"].shape[1]
        hp = {"d_model": d_model,
              "num_encoder_layers": count("encoder.layers."),
              "num_decoder_layers": count("decoder.layers."),
              "dim_feedforward": sd["encoder.layers.0.linear1.weight"].shape[0]}
    except KeyError as e:
        raise ExportError(f"the state_dict has no {e} (is it an nn.Transformer's?)")
    hp.update(_hyperparameters(args))
    if args.nhead is None:
        raise ExportError("a state_dict does not say the number of heads: give --nhead")
    model = nn.Transformer(**hp)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise ExportError(f"state_dict does not fit: missing {missing[:3]}, "
                          f"unexpected {unexpected[:3]}")
    return model


def _load(path):
    """torch.load of a whole pickled module (the user's own file), or a state_dict."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except TypeError:  # a torch without the weights_only argument
        return torch.load(path, map_location="cpu")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", nargs="?",
                    help="a torch.save'd nn.Transformer module, or its state_dict")
    ap.add_argument("-o", "--out", required=True, help="output folder")
    ap.add_argument("--new", action="store_true",
                    help="export a freshly initialised nn.Transformer(**flags) instead")
    ap.add_argument("--seed", type=int, default=0, help="torch.manual_seed for --new")
    ap.add_argument("--d-model", type=int)
    ap.add_argument("--nhead", type=int)
    ap.add_argument("--num-encoder-layers", type=int)
    ap.add_argument("--num-decoder-layers", type=int)
    ap.add_argument("--dim-feedforward", type=int)
    ap.add_argument("--activation", choices=["relu", "gelu"])
    ap.add_argument("--layer-norm-eps", type=float)
    ap.add_argument("--batch-first", action="store_true", default=None)
    ap.add_argument("--norm-first", action="store_true", default=None)
    args = ap.parse_args(argv)
    try:
        if args.new == (args.source is not None):
            raise ExportError("give either a SOURCE file or --new")
        if args.new:
            torch.manual_seed(args.seed)
            model = nn.Transformer(**_hyperparameters(args))
        else:
            try:
                obj = _load(args.source)
            except Exception as e:  # torch raises many kinds for a bad file
                raise ExportError(f"{args.source}: cannot load with torch.load: {e}")
            if isinstance(obj, dict):
                model = _from_state_dict(obj, args)
            elif isinstance(obj, nn.Transformer):
                model = obj
            else:
                raise ExportError(f"{args.source}: holds a {type(obj).__name__}, "
                                  "not an nn.Transformer or a state_dict")
        model.eval()
        config = save(model, args.out)
    except ExportError as e:
        print(f"export_torch_transformer: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: d_model {config['d_model']}, {config['nhead']} heads, "
          f"{config['num_encoder_layers']}+{config['num_decoder_layers']} layers, "
          f"ff {config['dim_feedforward']}, {config['activation']}, "
          f"{'pre-LN' if config['norm_first'] else 'post-LN'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
