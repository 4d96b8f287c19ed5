"""The n-grams that repeat on a page, for n = 2..max_n, in one compiled pass (numba).

``duplication.repeated_ngrams`` counted bigrams with a numpy sort and each longer length
with ``Counter`` and dicts over the candidates the shorter length left: ~0.14 ms of a 5 KB
page, mostly per-call numpy overhead and Python objects. :func:`ngram_repeats` does the
same counting, exactly and over integers, with an open-addressing hash table:

* a bigram is the integer ``id * n_vocab + next_id`` (exact word ids, ``Document.word_ids``);
* an n-gram (n >= 3) can only repeat where the (n-1)-grams at ``p`` and ``p + 1`` both
  repeat, and it is the (n-1)-gram at ``p`` (named by its label) followed by word
  ``p + n - 1``: the integer ``label * n_vocab + id``. Labels are below the word count, so
  keys stay below ``n_words * n_vocab`` (< 2**63 for any text ``Document`` accepts).

Counting stops at the first length with no repeat (nothing longer repeats either).

Compiled when this module is imported (one explicit signature; ``cache=True`` keeps the
machine code between processes), never during a request.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types

#: Fibonacci hashing multiplier, as a signed int64 (0x9E3779B97F4A7C15 - 2**64), so numba
#: keeps the arithmetic in int64.
_MULT = -7046029254386353131

_I64 = types.int64[::1]


@njit(types.Tuple((_I64, _I64))(_I64), cache=True, nogil=True)
def count_keys(keys):
    """(label of each key, count of each label): equal keys share a label; labels number
    the distinct keys in order of first occurrence."""
    m = len(keys)
    size = 16
    while size < 2 * m:
        size *= 2
    mask = size - 1
    slot_key = np.empty(size, dtype=np.int64)
    slot_label = np.full(size, -1, dtype=np.int64)
    labels = np.empty(m, dtype=np.int64)
    counts = np.zeros(m, dtype=np.int64)
    n_labels = 0
    for i in range(m):
        key = keys[i]
        slot = ((key * _MULT) >> 32) & mask
        while True:
            lab = slot_label[slot]
            if lab == -1:
                slot_key[slot] = key
                slot_label[slot] = n_labels
                lab = n_labels
                n_labels += 1
                break
            if slot_key[slot] == key:
                break
            slot = (slot + 1) & mask
        labels[i] = lab
        counts[lab] += 1
    return labels, counts[:n_labels]


_SIG = types.Tuple((_I64, _I64, _I64, _I64, _I64))(_I64, types.int64, types.int64)


@njit(_SIG, cache=True, nogil=True)
def ngram_repeats(ids, n_vocab, max_n):
    """For n = 2..``max_n``: the positions (ascending) of n-grams that occur twice or more,
    a label for each (equal iff the n-grams are equal), the highest count and the first
    position of an n-gram with that count.

    Returns flat arrays ``pos``, ``gram`` and ``bounds`` (length n's entries are
    ``pos[bounds[n]:bounds[n + 1]]``), and ``best``, ``best_pos`` indexed by n (1 and 0
    where nothing of that length repeats, as for lengths beyond ``max_n``)."""
    nw = len(ids)
    bounds = np.zeros(max_n + 2, dtype=np.int64)
    best = np.ones(max_n + 1, dtype=np.int64)
    best_pos = np.zeros(max_n + 1, dtype=np.int64)
    if nw < 2 or max_n < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), bounds, best, best_pos
    # every length's repeats go straight into one buffer (at most nw - 1 per length)
    pos_out = np.empty((max_n - 1) * (nw - 1), dtype=np.int64)
    gram_out = np.empty((max_n - 1) * (nw - 1), dtype=np.int64)
    # the repeats of the previous length, as a per-position label (-1: does not repeat)
    prev = np.full(nw, -1, dtype=np.int64)
    cand = np.arange(nw - 1)
    keys = ids[:-1] * n_vocab + ids[1:]
    total = 0
    n = 2
    while n <= max_n:
        if n > 2:
            # candidates: where the (n-1)-grams at p and p + 1 both repeat; they are among
            # the previous length's positions, ascending
            a = bounds[n - 1]
            b = bounds[n]
            m = 0
            for i in range(a, b):
                p = pos_out[i]
                if p + n <= nw and prev[p + 1] >= 0:
                    m += 1
            if m == 0:
                break
            cand = np.empty(m, dtype=np.int64)
            keys = np.empty(m, dtype=np.int64)
            m = 0
            for i in range(a, b):
                p = pos_out[i]
                if p + n <= nw and prev[p + 1] >= 0:
                    cand[m] = p
                    keys[m] = prev[p] * n_vocab + ids[p + n - 1]
                    m += 1
            for i in range(a, b):  # forget the previous length's labels
                prev[pos_out[i]] = -1
        labels, counts = count_keys(keys)
        top = 1
        for c in counts:
            if c > top:
                top = c
        if top < 2:
            break
        first_best = -1
        for i in range(len(cand)):
            lab = labels[i]
            if counts[lab] > 1:
                p = cand[i]
                pos_out[total] = p
                gram_out[total] = lab
                prev[p] = lab
                total += 1
                if first_best < 0 and counts[lab] == top:
                    first_best = p
        best[n] = top
        best_pos[n] = first_best
        bounds[n + 1] = total
        n += 1
    for k in range(n + 1, max_n + 2):
        bounds[k] = total
    pos_out = pos_out[:total].copy()
    gram_out = gram_out[:total].copy()
    return pos_out, gram_out, bounds, best, best_pos
