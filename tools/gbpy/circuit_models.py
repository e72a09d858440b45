"""A GPT-2-family model whose weights are set by hand so that its circuits are known by
construction: layer 0 head 2 is a pure previous-token head and layer 1 head 1 is an induction
head reading what L0H2 wrote (Olsson et al.'s two-layer induction circuit). The other heads have
random query/key weights and write nothing; the MLPs are zero.

Residual stream layout (d_model = 160): channels 0..23 the current token (one-hot), 24..87 the
position (one-hot), 88..111 the previous token (written by L0H2), 112..159 unused.
 - LayerNorm before layer 0 sees exactly two ones per position, so with bias m/s it is the plain
   scaling x / s; before layer 1 (three ones, approximately) likewise.
 - L0H2: q_i = A (cos ω_f i, sin ω_f i), k_j = (cos ω_f (j+1), sin ω_f (j+1)) for 20 frequencies
   ω_f = 2π f / 64, so q_i · k_j = A Σ_f cos ω_f (i − j − 1) peaks at j = i − 1 (a Dirichlet
   kernel); its value copies key j's token into the previous-token channels.
 - L1H1: the query is the current token, the key the previous-token channels: it attends where the
   previous token equals the current one — one past the earlier occurrence — and copies that
   token into the token channels with weight 3, so the model predicts it.
"""
import numpy as np

V, P, D, H, DH, F = 24, 64, 160, 4, 40, 32
TOK, POS, PREV = 0, 24, 88
PREV_HEAD = (0, 2)
INDUCTION_HEAD = (1, 1)
EPS = 1e-5

CONFIG = {"model_type": "gpt2", "n_embd": D, "n_head": H, "n_layer": 2, "n_positions": P,
          "n_inner": F, "vocab_size": V, "layer_norm_epsilon": EPS, "activation_function": "gelu_new"}


def _ln_scale(ones):
    """std of a d-vector holding `ones` ones and zeros elsewhere, as LayerNorm computes it."""
    m = ones / D
    return float(np.sqrt(ones / D - m * m + EPS)), m


def state_dict(seed=0):
    """HF GPT-2 state dict (numpy float32; Conv1D matrices [in, out])."""
    rng = np.random.default_rng(seed)
    sd = {}
    wte = np.zeros((V, D), np.float32)
    wte[np.arange(V), TOK + np.arange(V)] = 1
    wpe = np.zeros((P, D), np.float32)
    wpe[np.arange(P), POS + np.arange(P)] = 1
    sd["transformer.wte.weight"], sd["transformer.wpe.weight"] = wte, wpe
    for layer, ones in ((0, 2), (1, 3)):
        s, m = _ln_scale(ones)
        p = f"transformer.h.{layer}."
        sd[p + "ln_1.weight"] = np.ones(D, np.float32)
        sd[p + "ln_1.bias"] = np.full(D, m / s, np.float32)  # LN(x) = x / s
        sd[p + "ln_2.weight"] = np.ones(D, np.float32)
        sd[p + "ln_2.bias"] = np.zeros(D, np.float32)
        wq, wk, wv, wo = (np.zeros((D, D), np.float32) for _ in range(4))  # [out, in]
        for h in range(H):
            rows = slice(h * DH, (h + 1) * DH)
            if (layer, h) not in (PREV_HEAD, INDUCTION_HEAD):  # decoys: random attention, no output
                wq[rows] = rng.normal(0, 2.0, (DH, D)) * s
                wk[rows] = rng.normal(0, 2.0, (DH, D)) * s
        h0 = (PREV_HEAD[1] if layer == 0 else INDUCTION_HEAD[1]) * DH
        if layer == 0:
            A = 10.0
            for f in range(1, 21):
                w = 2 * np.pi * f / P
                pos = np.arange(P)
                wq[h0 + 2 * (f - 1), POS + pos] = A * s * np.cos(w * pos)
                wq[h0 + 2 * (f - 1) + 1, POS + pos] = A * s * np.sin(w * pos)
                wk[h0 + 2 * (f - 1), POS + pos] = s * np.cos(w * (pos + 1))
                wk[h0 + 2 * (f - 1) + 1, POS + pos] = s * np.sin(w * (pos + 1))
            for t in range(V):
                wv[h0 + t, TOK + t] = s
                wo[PREV + t, h0 + t] = 1
        else:
            B = 60.0
            for t in range(V):
                wq[h0 + t, TOK + t] = B * s
                wk[h0 + t, PREV + t] = s
                wv[h0 + t, TOK + t] = s
                wo[TOK + t, h0 + t] = 3
        sd[p + "attn.c_attn.weight"] = np.concatenate([wq, wk, wv], 0).T.copy()
        sd[p + "attn.c_attn.bias"] = np.zeros(3 * D, np.float32)
        sd[p + "attn.c_proj.weight"] = wo.T.copy()
        sd[p + "attn.c_proj.bias"] = np.zeros(D, np.float32)
        sd[p + "mlp.c_fc.weight"] = np.zeros((D, F), np.float32)
        sd[p + "mlp.c_fc.bias"] = np.zeros(F, np.float32)
        sd[p + "mlp.c_proj.weight"] = np.zeros((F, D), np.float32)
        sd[p + "mlp.c_proj.bias"] = np.zeros(D, np.float32)
    sd["transformer.ln_f.weight"] = np.ones(D, np.float32)
    sd["transformer.ln_f.bias"] = np.zeros(D, np.float32)
    return {k: v.astype(np.float32) for k, v in sd.items()}
