"""Previous-token and induction scores of attention heads, as TransformerLens defines them.

The probe is a batch of sequences [BOS, r_1 .. r_L, r_1 .. r_L] of uniformly random tokens
repeated once. For every head:
  - previous-token score: mean attention from each position t >= 1 to position t - 1;
  - induction score: mean attention from each position in the second repeat to the position
    right after the same token's earlier occurrence (t -> t - L + 1).
Scores lie in [0, 1]; a head doing the job perfectly scores 1.
"""
import torch


def repeated_random_tokens(n_seq, half_len, vocab_size, bos_id, seed):
    """[n_seq, 1 + 2*half_len] int64: BOS, then half_len random ids (never BOS), repeated."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab_size - 1, (n_seq, half_len), generator=gen)
    ids = ids + (ids >= bos_id).long()  # skip the BOS id wherever it sits in the vocabulary
    bos = torch.full((n_seq, 1), bos_id, dtype=torch.long)
    return torch.cat([bos, ids, ids], dim=1)


def prev_token_scores(patterns):
    """patterns: list over layers of [B, H, T, T] -> [n_layers, H]."""
    rows = []
    for p in patterns:
        stripe = p.diagonal(offset=-1, dim1=-2, dim2=-1)  # [B, H, T-1]: (t, t-1)
        rows.append(stripe.mean(dim=(0, 2)))
    return torch.stack(rows)


def induction_scores(patterns, half_len):
    """patterns: list over layers of [B, H, 1+2L, 1+2L] -> [n_layers, H]."""
    rows = []
    for p in patterns:
        stripe = p.diagonal(offset=-(half_len - 1), dim1=-2, dim2=-1)  # (t, t-L+1)
        second_repeat = stripe[..., -half_len:]  # [B, H, L]: t = L+1 .. 2L
        rows.append(second_repeat.mean(dim=(0, 2)))
    return torch.stack(rows)


@torch.no_grad()
def score_heads(model, vocab_size, bos_id, n_seq=16, half_len=50, seed=1234):
    """Runs the probe through a TinyLlama; returns (prev_token [n_layers, H], induction
    [n_layers, H], mean loss on the second repeat)."""
    tokens = repeated_random_tokens(n_seq, half_len, vocab_size, bos_id, seed)
    logits, patterns = model(tokens, want_patterns=True)
    # Loss on predicting tokens 2..L of the second repeat (the first one is not predictable).
    pred = logits[:, half_len + 1:-1]  # [B, L-1, V]
    target = tokens[:, half_len + 2:]  # [B, L-1]
    repeat_loss = torch.nn.functional.cross_entropy(pred.reshape(-1, pred.shape[-1]),
                                                    target.reshape(-1)).item()
    return prev_token_scores(patterns), induction_scores(patterns, half_len), repeat_loss
