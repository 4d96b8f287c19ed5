"""Compiled (numba) per-page passes of the spinning detector (``features/spinning.py``).

Per page, three calls (``page_codes``, ``columns``, ``decode_page``, which runs
``find_sites`` then ``decode_runs``) of these passes, each over flat arrays:

* ``token_spans``: the words of ``WORD_RE`` with their offsets, gap flags and hashes, in
  one pass over the text's code points; ``page_codes`` looks each word up in the
  page-word cache (``spinning._WordTable``: exact code points -> its cached code), and
  ``tokens`` adds the blanked text ``spinning.split_words`` splits;
* ``columns``: per-word ids, case observations, breaks and name tests from the words'
  cached codes, the capitalised runs ``_names`` examines, and the positions the Python
  code then looks up by name (``_Context.of``);
* ``find_sites``: the sites (suspicious words and two-word thesaurus phrases), their
  candidate originals that form a frequent pair with a neighbour, and the runs they form
  (the first half of ``SpinningExtractor._decode``);
* ``decode_runs``: per run, rank each site's candidates and keep the best
  ``max_options`` (``_rank``), find the best reading with a Viterbi search
  (``_viterbi``/``_viterbi_one``) and its gain over the observed words, and which groups of
  swapped words ``_spans_of`` would flag.

In Python and numpy this was most of the extractor's time (tens of thousands of small
float operations and dictionary probes per page, and dozens of numpy calls on arrays of
a few hundred items, each paying its call overhead). Pair counts and thesaurus phrases
are looked up in packed open-addressing hash tables (``build_table``): a probe costs
about one cache miss, where a binary search over 321k keys cost several.

The code follows the Python it replaces operation for operation, so that every float is
bit-identical: the same sums in the same order, ``math.log`` (the C library's ``log``,
as in CPython), the same tie-breaking (strict ``>`` in first-reached order, ``max`` keeping
the first maximum, the candidates sorted by the tuple (fit, id, case, cost, strong),
largest first). The Python versions stay in ``spinning.py`` as the reference
(``spinning._USE_COMPILED = False``: ``_rank``, ``_viterbi``, ``_viterbi_one``,
``_fixed_bonus``, ``_spans_of``, the numpy site search; ``_split_words_re``);
``bench/golden_spinning.py`` (``--check``, ``--reference``) checks both against outputs
recorded from the code before this module existed, and ``tests/test_spinning.py``
compares the two paths.

Compilation (~12-15 s of CPU) happens once per process when the tables are built
(``spinning._tables``, ``_compile_lattice``), never during a request; ``cache=True`` keeps
the machine code in ``__pycache__`` (or numba's user cache directory when that is not
writable), so later processes load it in ~0.3 s. Every call passes arrays of the same
types, so each function has exactly one compiled signature.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


#: A hash table slot holds ``key | value << KEY_BITS`` (-1: empty); keys are pair keys
#: a * V + b < 2**36 (V ~ 217k), values counts or ids < 2**27.
KEY_BITS = 36
_KEY_MASK = (1 << KEY_BITS) - 1
#: Fibonacci hashing multiplier (an int, not a numpy scalar: numba would unpickle a numpy
#: scalar global at every call)
_MULT = 0x9E3779B97F4A7C15
#: Columns of the per-id language-model rows (``lm_rows``): what scoring a word after
#: another reads of either, side by side in one 64-byte row
_P, _LOGP, _INV, _BACKOFF, _LOG_CAP, _LOG_LOW, _LOG_NCAP, _LOG_NLOW = range(8)
LM_COLUMNS = ("p", "logp", "inv_count", "backoff", "log_cap", "log_low", "log_ncap",
              "log_nlow")


def lm_rows(columns: dict[str, np.ndarray]) -> np.ndarray:
    """The per-id arrays named in ``LM_COLUMNS`` as one (V, 8) float64 array whose rows
    are 64-byte aligned: one cache line per id.

    Scoring a candidate reads eight numbers of its id (and of its neighbours'); from eight
    separate arrays of V floats each was a likely cache miss of its own, tens of thousands
    per page. The values are copied, not recomputed: every float stays the same."""
    n, k = len(columns[LM_COLUMNS[0]]), len(LM_COLUMNS)
    buf = np.empty(n * k + 8, dtype=np.float64)
    first = (-buf.ctypes.data % 64) // 8
    rows = buf[first:first + n * k].reshape(n, k)
    for c, name in enumerate(LM_COLUMNS):
        rows[:, c] = columns[name]
    return rows


@njit(cache=True, nogil=True)
def build_table(keys, vals):
    """An open-addressing (linear probing) hash table of distinct pair keys and their
    values, at a load factor <= 0.5, as one int64 array.

    Binary search over the 321k sorted pair keys costs ~100 ns a look-up, most of it in
    cache misses at the deep levels; a probe here is about one miss (~10 ns in cache)."""
    size = 16
    while size < 2 * len(keys):
        size *= 2
    mask = size - 1
    slots = np.full(size, -1, dtype=np.int64)
    for k in range(len(keys)):
        h = np.int64((np.uint64(keys[k]) * np.uint64(_MULT)) >> np.uint64(32)) & mask
        while slots[h] != -1:
            h = (h + 1) & mask
        slots[h] = keys[k] | (vals[k] << KEY_BITS)
    return slots


# The small helpers below are compiled with ``_nrt=False`` (no reference counting, as
# numba's own string helpers are) and not inlined by numba: inlined, every call took and
# released a reference to each array it is passed (an atomic operation each, which numba's
# pruning left in place because of the early returns and the probe loops): ~60 % of
# ``decode_runs``' time, ~15 % of ``columns``'. They allocate nothing, so they need no
# references (LLVM can still inline them into their callers).
@njit(cache=True, nogil=True, _nrt=False)
def lookup(slots, key):
    """Value stored for ``key`` (>= 0) in a ``build_table`` table, -1 if absent."""
    mask = len(slots) - 1
    h = np.int64((np.uint64(key) * np.uint64(_MULT)) >> np.uint64(32)) & mask
    while True:
        got = slots[h]
        if got == -1:
            return -1
        if (got & _KEY_MASK) == key:
            return got >> KEY_BITS
        h = (h + 1) & mask


@njit(cache=True, nogil=True, _nrt=False)
def _count(bigrams, key):
    """Reference count of pair ``key`` (0 if not stored)."""
    c = lookup(bigrams, key)
    return c if c >= 0 else 0


@njit(cache=True, nogil=True, _nrt=False)
def _has(table, key):
    return key >= 0 and lookup(table, key) >= 0


@njit(cache=True, nogil=True, _nrt=False)
def _bit(bits, h):
    """Bit ``h`` of a bit array packed little-endian (``np.packbits(..., bitorder="little")``)."""
    return (bits[h >> np.uint64(3)] >> (h & np.uint64(7))) & 1


@njit(cache=True, nogil=True, _nrt=False)
def _emit(a, b, j, case, V, bigrams, lm, d, uw, cw):
    """``SpinningExtractor._emit``: score of word ``b`` at position ``j`` after ``a``."""
    if b < 0:
        return -12.0
    if a < 0:
        return uw * lm[b, _LOGP]
    c = _count(bigrams, a * V + b)
    pr = (c - d if c > d else 0.0) * lm[a, _INV] + lm[a, _BACKOFF] * lm[b, _P]
    score = math.log(pr) - (1.0 - uw) * lm[b, _LOGP]
    if j >= 0:
        cj = case[j]
        if cj >= 0:
            score += cw * (lm[a, _LOG_NCAP] if cj else lm[a, _LOG_NLOW])
    return score


@njit(cache=True, nogil=True, _nrt=False)
def _case_score(wid, i, case, lm):
    c = case[i]
    if c < 0 or wid < 0:
        return 0.0
    return lm[wid, _LOG_CAP] if c else lm[wid, _LOG_LOW]


@njit(cache=True, nogil=True, _nrt=False)
def _bonus(a, b, pa, pb, o_start, o_end, o_cost, o_target, o_strong, ids, V, bigrams,
           compounds, lm, zipf, d, fixed, min_zipf_gain, min_pair_count, min_association):
    """``SpinningExtractor._fixed_bonus`` with options given by index (-1: None)."""
    refund = 0.0
    if pa >= 0:
        refund += max(0.0, o_cost[pa] - fixed)
    if pb >= 0:
        refund += max(0.0, o_cost[pb] - fixed)
    if refund == 0.0:
        return 0.0
    if _has(compounds, a * V + b):
        return refund
    if pa < 0 or pb < 0 or not (o_strong[pa] or o_strong[pb]):
        return 0.0
    if o_end[pa] - o_start[pa] != 1 or o_end[pb] - o_start[pb] != 1:
        return 0.0
    za = zipf[o_target[pa]] - zipf[ids[o_start[pa]]]
    zb = zipf[o_target[pb]] - zipf[ids[o_start[pb]]]
    if min(za, zb) < min_zipf_gain:
        return 0.0
    # _evidence([(a, b)]) > 0
    if a < 0 or b < 0:
        return 0.0
    c = _count(bigrams, a * V + b)
    if c < min_pair_count:
        return 0.0
    pr = (c - d) * lm[a, _INV] + lm[a, _BACKOFF] * lm[b, _P]
    if not (math.log(pr) - lm[b, _LOGP] >= min_association):
        return 0.0
    return refund


@njit(cache=True, nogil=True)
def decode_runs(ids, case, brk, run_p, run_q, s_i, s_j, s_w, s_L, s_R, s_in_name, c_lo,
                c_hi, tid, strong, c_left, c_right, expands, V, bigrams, compounds, lm, cap,
                fanout, zipf, long3, params, max_options):
    """Rank the candidates of every site and decode every run of a page.

    Sites (kept ones only, ordered by position, the one-word site first) are given by
    position ``s_i``, end ``s_j``, observed id, neighbour ids, the in-name test of
    ``_rank`` and the range ``c_lo:c_hi`` of their candidates (original id, synset-mate
    flag, counts with the left and right neighbour, and for phrase sites whether the
    original is the phrase's first or last word). ``params`` holds the extractor's
    thresholds (see the unpacking below).

    Returns the gain of each run (0.0 where the observed reading wins) and, for the
    runs with a positive gain, the decoded path: ``path_ptr[r]:path_ptr[r + 1]`` indexes
    rows (start, end, first, last, target, strong) of the options on the path, in order;
    whether ``_spans_of`` flags any group of swapped readings of the run, and for each
    flagged group, at the row of its first reading, its evidence count (``path_ev``, -1
    elsewhere). The options' (inner, cost) rows (``path_flt``) stay inside: only the
    flagging reads them.
    """
    (d, uw, cw, swap_cost, weak_swap_cost, name_swap_cost, collapse_cost, scw, fixed,
     min_zipf_gain, min_pair_count_f, min_association, plain_min_pair_count_f) = (
        params[0], params[1], params[2], params[3], params[4], params[5], params[6],
        params[7], params[8], params[9], params[10], params[11], params[12])
    min_pair_count = int(min_pair_count_f)
    plain_min_pair_count = int(plain_min_pair_count_f)
    k_uni = 1.0 - uw
    n = len(ids)
    n_runs = len(run_p)
    gains = np.zeros(n_runs)
    flagged = np.zeros(n_runs, dtype=np.bool_)
    total_len = 0
    max_len = 1
    for r in range(n_runs):
        total_len += run_q[r] - run_p[r]
        max_len = max(max_len, run_q[r] - run_p[r])
    path_ptr = np.zeros(n_runs + 1, dtype=np.int64)
    path_int = np.zeros((total_len, 6), dtype=np.int64)
    path_flt = np.zeros((total_len, 2))
    path_ev = np.full(total_len, -1, dtype=np.int64)
    n_path = 0
    # per-run option table: observed readings first (one per position), then ranked options
    cap_opts = max_len * (1 + 2 * max_options) + 1
    o_start = np.zeros(cap_opts, dtype=np.int64)
    o_end = np.zeros(cap_opts, dtype=np.int64)
    o_first = np.zeros(cap_opts, dtype=np.int64)
    o_target = np.zeros(cap_opts, dtype=np.int64)
    o_inner = np.zeros(cap_opts)
    o_cost = np.zeros(cap_opts)
    o_strong = np.zeros(cap_opts, dtype=np.bool_)
    # emissions _rank computed for a ranked option: from its site's left neighbour o_L
    # (when >= 0) and to its right neighbour o_R (when >= 0); the Viterbi search reuses
    # them (an emission depends only on the two words and the position)
    o_L = np.zeros(cap_opts, dtype=np.int64)
    o_R = np.zeros(cap_opts, dtype=np.int64)
    o_fl = np.zeros(cap_opts)
    o_fr = np.zeros(cap_opts)
    # emissions of the observed words: e_obs[k] of word P + k after the observed word
    # before it (L for k = 0), e_obs[m] of R after the last word
    e_obs = np.zeros(max_len + 1)
    # options of each position of the run: pos_opts[k, :pos_n[k]]
    pos_opts = np.zeros((max_len, 2 * max_options), dtype=np.int64)
    pos_n = np.zeros(max_len, dtype=np.int64)
    # Viterbi states per node (position p + k): last id, score, back-pointer
    S = 2 + 2 * max_options
    st_last = np.zeros((max_len + 1, S), dtype=np.int64)
    st_score = np.zeros((max_len + 1, S))
    st_bp_node = np.zeros((max_len + 1, S), dtype=np.int64)
    st_bp_slot = np.zeros((max_len + 1, S), dtype=np.int64)
    st_bp_opt = np.zeros((max_len + 1, S), dtype=np.int64)
    st_n = np.zeros(max_len + 1, dtype=np.int64)
    # candidate ranking scratch
    max_c = 1
    for k in range(len(c_lo)):
        max_c = max(max_c, c_hi[k] - c_lo[k])
    r_fit = np.zeros(max_c)
    r_tid = np.zeros(max_c, dtype=np.int64)
    r_case = np.zeros(max_c)
    r_cost = np.zeros(max_c)
    r_strong = np.zeros(max_c, dtype=np.bool_)
    r_fl = np.zeros(max_c)
    r_fr = np.zeros(max_c)
    order = np.zeros(max_c, dtype=np.int64)
    k_site = 0
    n_sites = len(s_i)
    for r in range(n_runs):
        path_ptr[r] = n_path
        P, Q = run_p[r], run_q[r]
        m = Q - P
        L = ids[P - 1] if P > 0 and not brk[P] else -1
        R = ids[Q] if Q < n and not brk[Q] else -1
        n_opt = 0
        for k in range(m):  # observed readings
            i = P + k
            o_start[n_opt] = i
            o_end[n_opt] = i + 1
            o_first[n_opt] = ids[i]
            o_target[n_opt] = -1
            o_inner[n_opt] = cw * _case_score(ids[i], i, case, lm)
            o_cost[n_opt] = 0.0
            o_strong[n_opt] = False
            o_L[n_opt] = o_R[n_opt] = -1
            n_opt += 1
            pos_n[k] = 0
        any_opt = False
        # ---- _rank for each site of the run ---------------------------------------------
        while k_site < n_sites and s_i[k_site] < Q:
            i, j, wid, sL, sR = s_i[k_site], s_j[k_site], s_w[k_site], s_L[k_site], \
                s_R[k_site]
            two = j - i > 1
            in_name = s_in_name[k_site]
            ci = case[i]
            inv_l = bo_l = case_l = 0.0
            has_case_l = False
            if sL >= 0:
                inv_l, bo_l = lm[sL, _INV], lm[sL, _BACKOFF]
                if ci >= 0:
                    case_l = cw * (lm[sL, _LOG_NCAP] if ci else lm[sL, _LOG_NLOW])
                    has_case_l = True
            p_r = logp_r = 0.0
            cj = -1
            if sR >= 0:
                p_r, logp_r = lm[sR, _P], lm[sR, _LOGP]
                cj = case[j]
            nc = 0
            for c in range(c_lo[k_site], c_hi[k_site]):
                t = tid[c]
                st = strong[c]
                if two and not st:
                    continue
                if two:
                    cost = collapse_cost if expands[c] else swap_cost
                elif in_name and cap[t] >= max(cap[wid], 0.03) and long3[t]:
                    cost = name_swap_cost
                else:
                    cost = swap_cost if st else weak_swap_cost
                    cost += scw * fanout[t]
                cs = cw * ((lm[t, _LOG_CAP] if ci else lm[t, _LOG_LOW]) if ci >= 0 else 0.0)
                fit_left = 0.0
                fit_right = 0.0
                if sL >= 0:
                    cl = c_left[c]
                    fit_left = math.log((cl - d if cl > d else 0.0) * inv_l
                                        + bo_l * lm[t, _P]) - k_uni * lm[t, _LOGP]
                    if has_case_l:
                        fit_left += case_l
                if sR >= 0:
                    cr = c_right[c]
                    fit_right = math.log((cr - d if cr > d else 0.0) * lm[t, _INV]
                                         + lm[t, _BACKOFF] * p_r) - k_uni * logp_r
                    if cj >= 0:
                        fit_right += cw * (lm[t, _LOG_NCAP] if cj else lm[t, _LOG_NLOW])
                r_fit[nc] = cs - cost + fit_left + fit_right
                r_fl[nc] = fit_left
                r_fr[nc] = fit_right
                r_tid[nc] = t
                r_case[nc] = cs
                r_cost[nc] = cost
                r_strong[nc] = st
                order[nc] = nc
                nc += 1
            # stable insertion sort, largest (fit, tid, case, cost, strong) first
            for a_ in range(1, nc):
                x = order[a_]
                b_ = a_ - 1
                while b_ >= 0:
                    y = order[b_]
                    # is x greater than y (then it moves before y)?
                    if r_fit[x] != r_fit[y]:
                        gt = r_fit[x] > r_fit[y]
                    elif r_tid[x] != r_tid[y]:
                        gt = r_tid[x] > r_tid[y]
                    elif r_case[x] != r_case[y]:
                        gt = r_case[x] > r_case[y]
                    elif r_cost[x] != r_cost[y]:
                        gt = r_cost[x] > r_cost[y]
                    else:
                        gt = r_strong[x] and not r_strong[y]
                    if not gt:
                        break
                    order[b_ + 1] = y
                    b_ -= 1
                order[b_ + 1] = x
            k = i - P
            for a_ in range(min(nc, max_options)):
                x = order[a_]
                o_start[n_opt] = i
                o_end[n_opt] = j
                o_first[n_opt] = r_tid[x]
                o_target[n_opt] = r_tid[x]
                o_inner[n_opt] = r_case[x]
                o_cost[n_opt] = r_cost[x]
                o_strong[n_opt] = r_strong[x]
                o_L[n_opt], o_R[n_opt] = sL, sR
                o_fl[n_opt], o_fr[n_opt] = r_fl[x], r_fr[x]
                pos_opts[k, pos_n[k]] = n_opt
                pos_n[k] += 1
                n_opt += 1
                any_opt = True
            k_site += 1
        if not any_opt:
            continue
        last = L
        for k in range(m):
            i = P + k
            e_obs[k] = _emit(last, ids[i], i, case, V, bigrams, lm, d, uw, cw)
            last = ids[i]
        if R >= 0:
            e_obs[m] = _emit(last, R, Q, case, V, bigrams, lm, d, uw, cw)
        # ---- Viterbi over the run (_viterbi; _viterbi_one is the same for one word) ---------
        for k in range(m + 1):
            st_n[k] = 0
        st_last[0, 0] = L
        st_score[0, 0] = 0.0
        st_bp_opt[0, 0] = -2  # no back-pointer
        st_n[0] = 1
        for k in range(m):
            i = P + k
            if st_n[k] == 0:
                continue
            for e in range(-1, pos_n[k]):
                o = k if e < 0 else pos_opts[k, e]  # observed reading of position i first
                if o_end[o] > Q:
                    continue
                tk = o_end[o] - P
                base = o_inner[o] - o_cost[o]
                swapped = o_target[o] >= 0
                of_ = o_first[o]
                prev_obs = L if k == 0 else ids[i - 1]
                for s in range(st_n[k]):
                    last = st_last[k, s]
                    sc = st_score[k, s]
                    bo = st_bp_opt[k, s]
                    # the emission of this reading after ``last``, reused where known
                    if e < 0 and last == prev_obs:
                        em = e_obs[k]
                    elif e >= 0 and last >= 0 and last == o_L[o]:
                        em = o_fl[o]
                    elif bo >= 0 and o_R[bo] >= 0 and of_ == o_R[bo]:
                        em = o_fr[bo]  # (last is the reading bo's word, ending at i)
                    else:
                        em = _emit(last, of_, i, case, V, bigrams, lm, d, uw, cw)
                    sv = sc + em + base
                    prev = bo if bo >= 0 else -1
                    if prev >= 0 and o_target[prev] < 0:
                        prev = -1
                    if (swapped or prev >= 0) and last >= 0:
                        sv += _bonus(last, of_, prev, o if swapped else -1, o_start, o_end,
                                     o_cost, o_target, o_strong, ids, V, bigrams,
                                     compounds, lm, zipf, d, fixed, min_zipf_gain,
                                     min_pair_count, min_association)
                    # tgt[o.last]: o.last == o.first for every reading
                    found = -1
                    for u in range(st_n[tk]):
                        if st_last[tk, u] == of_:
                            found = u
                            break
                    if found < 0:
                        u = st_n[tk]
                        st_n[tk] += 1
                        st_last[tk, u] = of_
                    elif sv > st_score[tk, found]:
                        u = found
                    else:
                        continue
                    st_score[tk, u] = sv
                    st_bp_node[tk, u] = k
                    st_bp_slot[tk, u] = s
                    st_bp_opt[tk, u] = o
        if st_n[m] == 0:
            continue
        best_s = 0.0
        best_u = -1
        for u in range(st_n[m]):
            last = st_last[m, u]
            prev = st_bp_opt[m, u]
            em = 0.0
            if R >= 0:
                if last == ids[Q - 1]:
                    em = e_obs[m]
                elif prev >= 0 and o_R[prev] == R:
                    em = o_fr[prev]
                else:
                    em = _emit(last, R, Q, case, V, bigrams, lm, d, uw, cw)
            sv = st_score[m, u] + em
            if R >= 0 and prev >= 0 and o_target[prev] >= 0:
                sv += _bonus(last, R, prev, -1, o_start, o_end, o_cost, o_target, o_strong,
                             ids, V, bigrams, compounds, lm, zipf, d, fixed, min_zipf_gain,
                             min_pair_count, min_association)
            if best_u < 0 or sv > best_s:
                best_s, best_u = sv, u
        # _observed_score
        obs = 0.0
        for k in range(m):
            obs += e_obs[k] + cw * _case_score(ids[P + k], P + k, case, lm)
        if R >= 0:
            obs += e_obs[m]
        gain = best_s - obs
        if gain <= 0:
            continue
        gains[r] = gain
        # the path, back to front, then reversed into place
        node, u = m, best_u
        a0 = n_path
        while node != 0:
            o = st_bp_opt[node, u]
            path_int[n_path, 0] = o_start[o]
            path_int[n_path, 1] = o_end[o]
            path_int[n_path, 2] = o_first[o]
            path_int[n_path, 3] = o_first[o]
            path_int[n_path, 4] = o_target[o]
            path_int[n_path, 5] = 1 if o_strong[o] else 0
            path_flt[n_path, 0] = o_inner[o]
            path_flt[n_path, 1] = o_cost[o]
            n_path += 1
            node, u = st_bp_node[node, u], st_bp_slot[node, u]
        b0 = n_path - 1
        while a0 < b0:
            for c in range(6):
                path_int[a0, c], path_int[b0, c] = path_int[b0, c], path_int[a0, c]
            for c in range(2):
                path_flt[a0, c], path_flt[b0, c] = path_flt[b0, c], path_flt[a0, c]
            a0 += 1
            b0 -= 1
        flagged[r] = _flag_groups(path_int, path_flt, path_ev, path_ptr[r], n_path, L, R, V,
                                  bigrams, compounds, lm, d, swap_cost, min_pair_count,
                                  plain_min_pair_count, min_association)
    path_ptr[n_runs] = n_path
    return gains, flagged, path_ptr, path_int, path_ev


@njit(cache=True, nogil=True, _nrt=False)
def _evidence_pair(a, b, best, V, bigrams, lm, d, min_pair_count, min_association):
    """One step of ``SpinningExtractor._evidence``: the new best count after pair (a, b)."""
    if a < 0 or b < 0:
        return best
    c = _count(bigrams, a * V + b)
    if c < min_pair_count or c <= best:
        return best
    pr = (c - d) * lm[a, _INV] + lm[a, _BACKOFF] * lm[b, _P]
    if math.log(pr) - lm[b, _LOGP] >= min_association:
        return c
    return best


@njit(cache=True, nogil=True)
def _flag_groups(path_int, path_flt, path_ev, a0, a1, L, R, V, bigrams, compounds, lm, d,
                 swap_cost, min_pair_count, plain_min_pair_count, min_association):
    """Which groups of swapped readings of the path in rows ``a0:a1`` would
    ``SpinningExtractor._spans_of`` flag? (The same groups, evidence and thresholds.) Sets
    ``path_ev`` at a flagged group's first row to its evidence count; returns whether any
    group is flagged. The spans themselves are made in Python (``_spans_of_compiled``)."""
    found = False
    k = a0
    while k < a1:
        if path_int[k, 4] < 0:
            k += 1
            continue
        g = k
        while g + 1 < a1 and path_int[g + 1, 4] >= 0:
            g += 1
        prev_id = path_int[k - 1, 3] if k > a0 else L
        next_id = path_int[g + 1, 2] if g + 1 < a1 else R
        # pairs: (prev, first of group), (last of group, next), then inside the group
        ev = _evidence_pair(prev_id, path_int[k, 2], 0, V, bigrams, lm, d, min_pair_count,
                            min_association)
        ev = _evidence_pair(path_int[g, 3], next_id, ev, V, bigrams, lm, d, min_pair_count,
                            min_association)
        comp = (prev_id >= 0 and _has(compounds, prev_id * V + path_int[k, 2])) or (
            next_id >= 0 and _has(compounds, path_int[g, 3] * V + next_id))
        plain = True
        for x in range(k, g + 1):
            if path_flt[x, 1] < swap_cost:
                plain = False
            if x < g:
                a, b = path_int[x, 3], path_int[x + 1, 2]
                ev = _evidence_pair(a, b, ev, V, bigrams, lm, d, min_pair_count,
                                    min_association)
                if _has(compounds, a * V + b):
                    comp = True
        need = plain_min_pair_count if plain and not comp else min_pair_count
        if ev >= need:
            path_ev[k] = ev
            found = True
        k = g + 1
    return found


@njit(cache=True, nogil=True)
def find_sites(ids, brk, name_like, unk_pid, V, bigrams, compounds, examinable,
               phrase_first, t_start, t_end, t_idx, t_strong,
               frequent, hash_mult, hash_shift, cap, first_id, last_id, susp, loose,
               min_pair_count):
    """``SpinningExtractor._decode`` up to the runs, for one page (see there): the sites
    (suspicious words, and two-word thesaurus phrases read as one original), their
    candidate originals that form a frequent pair with a neighbour (``_candidates``), the
    sites that keep any, and the runs they form (``_runs``).

    ``name_like[i]``: word ``i`` could be part of a name for ``_rank`` (capitalised
    mid-sentence, or capitalised with unknown case and not sentence-initial, > 2
    letters); ``unk_pid[i]``: the thesaurus phrase id of words ``i, i + 1`` when the
    second one is not in the vocabulary (-1 otherwise). ``first_id``/``last_id``: per
    phrase id, the ids of its first and last word (for ``expands``).

    Returns the kept sites (position, end, observed id, left id, right id, in-name flag,
    candidate range), the candidates (id, synset-mate flag, counts with the left and
    right neighbour, expands flag) and the runs (start, end).
    """
    n = len(ids)
    exam = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        w = ids[i]
        exam[i] = w >= 0 and examinable[w]
    # counts of adjacent pairs, -1 across a break (left_a[i]: the pair ending at i). A
    # count is read only next to an examinable word or after a phrase's possible first
    # word (below); elsewhere only its sign is, so those pairs (about a third: "of the")
    # are not looked up, each look-up being a likely cache miss, and stay 0
    left_a = np.full(n + 1, -1, dtype=np.int64)
    for i in range(1, n):
        if brk[i]:
            continue
        a, b = ids[i - 1], ids[i]
        if a < 0 or b < 0:
            left_a[i] = 0
        elif exam[i] or exam[i - 1] or phrase_first[a] or (i > 1 and ids[i - 2] >= 0
                                                           and phrase_first[ids[i - 2]]):
            left_a[i] = _count(bigrams, a * V + b)
        else:
            left_a[i] = 0
    single = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        lc, rc = left_a[i], left_a[i + 1]
        single[i] = exam[i] and lc <= susp and rc <= susp and (lc >= 0 or rc >= 0)
    chain = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        if i + 1 < n and single[i + 1] and left_a[i + 1] == 0:
            chain[i] = True
        if i > 0 and single[i - 1] and left_a[i] == 0:
            chain[i] = True
    for i in range(n):
        if chain[i] and exam[i] and left_a[i] <= loose and left_a[i + 1] <= loose:
            single[i] = True
    # sites in position order, the one-word site before the two-word one
    s_i = np.empty(2 * n, dtype=np.int64)
    s_j = np.empty(2 * n, dtype=np.int64)
    s_w = np.empty(2 * n, dtype=np.int64)
    s_L = np.empty(2 * n, dtype=np.int64)
    s_R = np.empty(2 * n, dtype=np.int64)
    ns = 0
    for i in range(n):
        L = ids[i - 1] if i > 0 and left_a[i] >= 0 else -1
        if single[i]:
            s_i[ns], s_j[ns], s_w[ns], s_L[ns] = i, i + 1, ids[i], L
            s_R[ns] = ids[i + 1] if left_a[i + 1] >= 0 else -1
            ns += 1
        if i + 1 < n and ids[i] >= 0 and phrase_first[ids[i]] and left_a[i + 1] >= 0 \
                and left_a[i + 2] <= susp:
            nxt = ids[i + 1]
            pid = -1
            if nxt >= 0:
                pid = lookup(compounds, ids[i] * V + nxt)
            else:
                pid = unk_pid[i]
            if pid >= 0:
                s_i[ns], s_j[ns], s_w[ns], s_L[ns] = i, i + 2, pid, L
                s_R[ns] = ids[i + 2] if left_a[i + 2] >= 0 else -1
                ns += 1
    # candidates: originals forming a frequent pair with a neighbour (the filter of the
    # frequent pairs has no false negatives: it only saves look-ups)
    cap_c = 16
    for k in range(ns):
        w = s_w[k]
        if w >= 0:
            cap_c += t_end[w] - t_start[w]
    c_tid = np.empty(cap_c, dtype=np.int64)
    c_strong = np.empty(cap_c, dtype=np.bool_)
    c_left = np.empty(cap_c, dtype=np.int64)
    c_right = np.empty(cap_c, dtype=np.int64)
    c_exp = np.zeros(cap_c, dtype=np.bool_)
    k_lo = np.empty(ns, dtype=np.int64)
    k_hi = np.empty(ns, dtype=np.int64)
    keep = np.zeros(ns, dtype=np.bool_)
    nc = 0
    for k in range(ns):
        w, L, R = s_w[k], s_L[k], s_R[k]
        two = s_j[k] - s_i[k] > 1
        k_lo[k] = nc
        any_strong = False
        if w >= 0:
            for f in range(t_start[w], t_end[w]):
                t = t_idx[f]
                kl = L * V + t if L >= 0 else -1
                kr = t * V + R if R >= 0 else -1
                if not ((kl >= 0 and _bit(frequent, (np.uint64(kl) * hash_mult) >> hash_shift))
                        or (kr >= 0
                            and _bit(frequent, (np.uint64(kr) * hash_mult) >> hash_shift))):
                    continue
                cl = _count(bigrams, kl) if kl >= 0 else 0
                cr = _count(bigrams, kr) if kr >= 0 else 0
                if cl >= min_pair_count or cr >= min_pair_count:
                    c_tid[nc] = t
                    c_strong[nc] = t_strong[f]
                    c_left[nc] = cl
                    c_right[nc] = cr
                    if two:
                        c_exp[nc] = t == first_id[w] or t == last_id[w]
                    any_strong |= t_strong[f]
                    nc += 1
        k_hi[k] = nc
        keep[k] = k_hi[k] > k_lo[k] and (any_strong or not two)
    # kept sites and their runs: stretches covered by sites, joined when adjacent unless
    # a break falls between them
    nk = 0
    for k in range(ns):
        nk += keep[k]
    ks = np.empty(nk, dtype=np.int64)
    m = 0
    for k in range(ns):
        if keep[k]:
            ks[m] = k
            m += 1
    run_p = np.empty(nk, dtype=np.int64)
    run_q = np.empty(nk, dtype=np.int64)
    nr = 0
    p = q = -1
    m = 0
    while m < nk:
        i = s_i[ks[m]]
        e = s_j[ks[m]]
        while m + 1 < nk and s_i[ks[m + 1]] == i:  # ends[i]: the furthest end at i
            m += 1
            e = max(e, s_j[ks[m]])
        m += 1
        if p >= 0 and (i < q or (i == q and not brk[i])):
            q = max(q, e)
            continue
        if p >= 0:
            run_p[nr], run_q[nr] = p, q
            nr += 1
        p, q = i, e
    if p >= 0:
        run_p[nr], run_q[nr] = p, q
        nr += 1
    in_name = np.empty(nk, dtype=np.bool_)
    for m in range(nk):
        k = ks[m]
        in_name[m] = name_like[s_i[k]] and cap[s_w[k]] <= 0.5
    return (s_i[ks], s_j[ks], s_w[ks], s_L[ks], s_R[ks], in_name, k_lo[ks], k_hi[ks],
            c_tid[:nc], c_strong[:nc], c_left[:nc], c_right[:nc], c_exp[:nc],
            run_p[:nr], run_q[:nr])


@njit(cache=True, nogil=True)
def token_spans(cp, table):
    """The tokens of ``WORD_RE`` in a text given as code points (all below 65536), with
    ``table`` the class bits of ``spinning._char_classes`` (1 word, 2 apostrophe, 4 break,
    8 sentence, 16 newline, 32 white space, 64 dash), in one pass over the text.

    A character belongs to a token if it is a word character, or an apostrophe between two
    word characters (what ``\\w+(?:['’]\\w+)*`` matches: tokens are the maximal runs of such
    characters). Returns the tokens' starts and ends, the gap flags of ``split_words``
    (1 a break, 2 a sentence boundary, 4 a line break before each token; a dash counts as
    a break between two white-space characters, ``\\s-\\s``) and each token's
    ``_word_hash``, computed on the way (the page-word cache looks tokens up by it).
    """
    n = len(cp)
    starts = np.empty(n // 2 + 1, dtype=np.int64)
    ends = np.empty(n // 2 + 1, dtype=np.int64)
    flags = np.empty(n // 2 + 1, dtype=np.int64)
    hashes = np.empty(n // 2 + 1, dtype=np.uint64)
    nw = 0
    gap = 0  # what the gap since the last token held: 1 a break, 2 a sentence end, 4 a newline
    k = 0
    while k < n:
        x = cp[k]
        c = table[x]
        if c & 1:
            starts[nw] = k
            h = (np.uint64(0xCBF29CE484222325) ^ np.uint64(x)) * np.uint64(0x100000001B3)
            k += 1
            while k < n:  # (cp[k - 1] is a word character here)
                x = cp[k]
                c = table[x]
                if c & 1:
                    k += 1
                elif c & 2 and k + 1 < n and table[cp[k + 1]] & 1:
                    h = (h ^ np.uint64(x)) * np.uint64(0x100000001B3)
                    x = cp[k + 1]
                    k += 2
                else:
                    break
                h = (h ^ np.uint64(x)) * np.uint64(0x100000001B3)
            ends[nw] = k
            hashes[nw] = h
            # a sentence end counts only with a break
            flags[nw] = (gap & 4) | ((gap & 3) if gap & 1 else 0)
            nw += 1
            gap = 0
            continue
        if c & 4:
            gap |= 1
        elif c & 64 and 0 < k < n - 1 and table[cp[k - 1]] & 32 and table[cp[k + 1]] & 32:
            gap |= 1
        if c & 8:
            gap |= 2
        if c & 16:
            gap |= 4
        k += 1
    if nw:
        flags[0] = 1 | 2 | (flags[0] & 4)
    return starts[:nw], ends[:nw], flags[:nw], hashes[:nw]


@njit(cache=True, nogil=True)
def tokens(cp, table):
    """``token_spans`` (without the hashes) and the code points with every character
    outside a token replaced by a space (so ``str.split`` gives the tokens)."""
    starts, ends, flags, _hashes = token_spans(cp, table)
    masked = np.full(len(cp), 32, dtype=np.uint32)
    for i in range(len(starts)):
        for k in range(starts[i], ends[i]):
            masked[k] = cp[k]
    return starts, ends, flags, masked


@njit(cache=True, nogil=True)
def columns(codes, flags, has_strong, phrase_first, tortured, V, gap):
    """Per-word columns of a page from the cached word codes (``spinning._word_code``:
    (id + 1) << 8 | case if mid-sentence + 1 | content << 2 | capitalised content << 3 |
    name part << 4 | capitalised and > 2 letters << 5) and the gap flags.

    Returns the ids, the case observations of ``_case_of`` with -1 appended (past the
    end), the break flags, ``_rank``'s name test per word (capitalised mid-sentence, or
    capitalised with unknown case and not sentence-initial, > 2 letters) and the first
    and last positions of the capitalised runs that ``SpinningExtractor._names`` examines
    (``capitalised_runs``, those with a word that has a strong synonym, ``has_strong``:
    per id, index -1 for unknown words).

    Also the positions ``i`` (of ``i``, ``i + 1``) that ``_decode`` and ``_tortured``
    look up by name or pair: a phrase's possible first word followed by an unknown word
    (``phrase_first``), a known pair that starts a tortured phrase (``tortured``, a
    ``build_table`` of pair keys) and a pair with an unknown word; and the counts of
    ``_rare_synonym_frac``: words with a close synonym (``gap`` > -99: per id, index -1
    for unknown words) and those whose commonest one is >= 10x commoner (``gap`` >= 1).
    """
    n = len(codes)
    ids = (codes >> 8) - 1
    case = np.full(n + 1, -1, dtype=np.int64)
    brk = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        f = flags[i]
        brk[i] = (f & 1) != 0
        if not f & 2:
            case[i] = (codes[i] & 3) - 1
    # a line is a title when >= 3 of its words are content words and >= 60 % of those are
    # capitalised: capitals say nothing there
    a = 0
    for b in range(1, n + 1):
        if b < n and not flags[b] & 4:
            continue
        n_content = 0
        n_caps = 0
        for i in range(a, b):
            n_content += (codes[i] >> 2) & 1
            n_caps += (codes[i] >> 3) & 1
        if n_content >= 3 and n_caps >= 0.6 * n_content:
            for i in range(a, b):
                case[i] = -1
        a = b
    name_like = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        if (codes[i] >> 5) & 1:
            name_like[i] = case[i] == 1 or (case[i] < 0 and not flags[i] & 2)
    # capitalised runs (``spinning.capitalised_runs``): consecutive name parts (capitalised, no
    # digit) with no break between them and only name connectors (non-content words)
    # between them
    run_a = np.empty(n // 2 + 1, dtype=np.int64)
    run_b = np.empty(n // 2 + 1, dtype=np.int64)
    nr = 0
    start = prev = -1
    for q in range(n + 1):
        if q < n:
            if not (codes[q] >> 4) & 1:
                continue
            if prev < 0:
                start = prev = q
                continue
            joined = True
            for x in range(prev + 1, q + 1):
                if brk[x] or (x < q and (codes[x] >> 2) & 1):
                    joined = False
                    break
            if joined:
                prev = q
                continue
        if prev > start:
            strong = False
            for x in range(start, prev + 1):
                if has_strong[ids[x]]:
                    strong = True
                    break
            if strong:
                run_a[nr], run_b[nr] = start, prev
                nr += 1
        start = prev = q
    unk_phrase = np.empty(n, dtype=np.int64)
    tort = np.empty(n, dtype=np.int64)
    unk_pair = np.empty(n, dtype=np.int64)
    nu = nt = np_ = 0
    for i in range(n - 1):
        a, b = ids[i], ids[i + 1]
        if a >= 0 and b >= 0:
            if _has(tortured, a * V + b):
                tort[nt] = i
                nt += 1
        else:
            unk_pair[np_] = i
            np_ += 1
            if a >= 0 and phrase_first[a]:
                unk_phrase[nu] = i
                nu += 1
    n_syn = n_rare = 0
    for i in range(n):
        g = gap[ids[i]]
        n_syn += g > -99.0
        n_rare += g >= 1.0
    return (ids, case, brk, name_like, run_a[:nr], run_b[:nr], unk_phrase[:nu], tort[:nt],
            unk_pair[:np_], n_syn, n_rare)


# ---- the page-word cache, in compiled form ------------------------------------------------
# ``spinning._WordTable``: every word seen on a page (by its exact code points) -> its
# ``_word_code``. Entries are appended as rows (offset of the word in ``chars``, its
# length, its code) of ``ents`` and published by filling a slot of the open-addressing
# table ``slots`` (pairs: the word's hash, entry + 1; 0: empty), in a separate call: a
# reader sees either no slot or a complete entry. The hash sits in the slot and an entry's
# fields in one row, so a look-up reads about three cache lines (slot, row, characters).

@njit(cache=True, nogil=True, inline="always")
def _word_hash(cp, a, b):
    """FNV-1a of code points ``cp[a:b]`` (64-bit)."""
    h = np.uint64(0xCBF29CE484222325)
    for k in range(a, b):
        h = (h ^ np.uint64(cp[k])) * np.uint64(0x100000001B3)
    return h


@njit(cache=True, nogil=True, inline="always")
def _word_slot(cp, a, b, h, slots, ents, chars):
    """Slot (pair index) of word ``cp[a:b]`` (hash ``h``) in ``slots``: the slot holding
    its entry, or the empty slot where it would go."""
    mask = (len(slots) >> 1) - 1
    s = np.int64((h * np.uint64(_MULT)) >> np.uint64(32)) & mask
    n = b - a
    while True:
        e1 = slots[2 * s + 1]
        if e1 == 0:
            return s
        if slots[2 * s] == h:
            e = np.int64(e1) - 1
            if ents[e, 1] == n:
                o = ents[e, 0]
                same = True
                for k in range(n):
                    if chars[o + k] != cp[a + k]:
                        same = False
                        break
                if same:
                    return s
        s = (s + 1) & mask


@njit(cache=True, nogil=True)
def page_codes(cp, table, slots, ents, chars):
    """``token_spans`` of a page and the cached ``_word_code`` of each token (-1: not cached,
    for the Python code to compute and ``add_words``). The word strings themselves are
    never made here: the Python code slices the few it needs from the text."""
    starts, ends, flags, hashes = token_spans(cp, table)
    n = len(starts)
    codes = np.empty(n, dtype=np.int64)
    for i in range(n):
        s = _word_slot(cp, starts[i], ends[i], hashes[i], slots, ents, chars)
        e1 = slots[2 * s + 1]
        codes[i] = ents[np.int64(e1) - 1, 2] if e1 != 0 else -1
    return starts, ends, flags, codes


@njit(cache=True, nogil=True)
def add_words(cp, w_start, w_end, w_code, ents, chars, n_entries, n_chars):
    """Append the words ``cp[w_start[k]:w_end[k]]`` (distinct, not in the table) with their
    codes as entries ``n_entries...`` (characters at ``n_chars...``); the caller has made
    room. They are not visible until ``link_words``."""
    e, o = n_entries, n_chars
    for k in range(len(w_start)):
        a, b = w_start[k], w_end[k]
        ents[e, 0], ents[e, 1], ents[e, 2] = o, b - a, w_code[k]
        for x in range(a, b):
            chars[o] = cp[x]
            o += 1
        e += 1
    return o


@njit(cache=True, nogil=True)
def link_words(slots, ents, chars, first, last):
    """Publish entries ``first:last`` (``add_words``): fill a free slot for each. Also
    re-links every entry into a fresh, larger ``slots`` (first = 0)."""
    for e in range(first, last):
        o, n = ents[e, 0], ents[e, 1]
        h = _word_hash(chars, o, o + n)
        s = _word_slot(chars, o, o + n, h, slots, ents, chars)
        if slots[2 * s + 1] == 0:
            slots[2 * s] = h
            slots[2 * s + 1] = np.uint64(e + 1)


@njit(cache=True, nogil=True)
def decode_page(ids, case, brk, name_like, unk_pid, V, bigrams, compounds, examinable,
                phrase_first, t_start, t_end, t_idx, t_strong, frequent, hash_mult,
                hash_shift, first_id, last_id, lm, cap, fanout, zipf, long3, params, susp,
                loose, min_pair_count, max_options):
    """``find_sites`` then ``decode_runs`` (see both) in one call: the sites, candidates
    and runs never reach Python, which saves boxing them and passing them back in (two
    dozen arrays; each costs a call from Python some microseconds). Returns what
    ``decode_runs`` returns (nothing to decode: no runs)."""
    (s_i, s_j, s_w, s_L, s_R, in_name, c_lo, c_hi, tid, strong, c_left, c_right, expands,
     run_p, run_q) = find_sites(ids, brk, name_like, unk_pid, V, bigrams, compounds,
                                examinable, phrase_first, t_start, t_end, t_idx, t_strong,
                                frequent, hash_mult, hash_shift, cap, first_id, last_id,
                                susp, loose, min_pair_count)
    return decode_runs(ids, case, brk, run_p, run_q, s_i, s_j, s_w, s_L, s_R, in_name, c_lo,
                       c_hi, tid, strong, c_left, c_right, expands, V, bigrams, compounds,
                       lm, cap, fanout, zipf, long3, params, max_options)
