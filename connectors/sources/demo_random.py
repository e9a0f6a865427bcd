"""Counter-based random numbers for the demo generator: every draw is a pure function of
(seed, stream name, key).

Why not a seeded `numpy.random.Generator`: a generator's output depends on how many numbers
were drawn before, so profile 70 000's history would depend on which chunk it was generated in
and on how many profiles came before it. Hashing a key instead (the profile index, packed with
a session, step or campaign counter) makes every value independent of chunking and of the
number of profiles: chunk size is a pure memory knob, and a profile looks the same in a
5 000-profile test and in the 1 000 000-profile benchmark. The hash is SplitMix64's finalizer,
vectorised with numpy's wrapping uint64 arithmetic; each stream name gets its own 64-bit
constant so that, say, a profile's country and its signup date are independent draws.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Keys = NDArray[np.uint64]
Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]

COUNTER_BITS = 24
"""Bits of a key left for the per-profile counter; the profile index gets the 40 above."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def item_keys(profile_index: Ints, counter: Ints | int = 0) -> Keys:
    """Pack profile indices and a per-profile counter (< 2**24) into one 64-bit key each."""
    if np.any(np.asarray(counter) >= 1 << COUNTER_BITS):
        raise ValueError(f"per-profile counter must stay below 2**{COUNTER_BITS}")
    packed = (profile_index.astype(np.uint64) << np.uint64(COUNTER_BITS)) | np.asarray(
        counter
    ).astype(np.uint64)
    return np.asarray(packed, dtype=np.uint64)


class KeyedRandom:
    """Uniform, Bernoulli, categorical, normal and geometric draws keyed by item."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[str, np.uint64] = {}

    def _stream(self, name: str) -> np.uint64:
        constant = self._streams.get(name)
        if constant is None:
            digest = hashlib.blake2b(
                f"tidemark-demo:{self.seed}:{name}".encode(), digest_size=8
            ).digest()
            constant = np.uint64(int.from_bytes(digest, "little"))
            self._streams[name] = constant
        return constant

    def _hash(self, stream: str, keys: Keys) -> Keys:
        with np.errstate(over="ignore"):
            z = keys * _GOLDEN
            z += self._stream(stream)
            z ^= z >> np.uint64(30)
            z *= _MIX_1
            z ^= z >> np.uint64(27)
            z *= _MIX_2
            z ^= z >> np.uint64(31)
        return z

    def uniform(self, stream: str, keys: Keys) -> Floats:
        """Uniform draws in the open interval (0, 1), one per key."""
        z = self._hash(stream, keys)
        z >>= np.uint64(11)
        unit = z.astype(np.float64)
        unit += 0.5
        unit *= 2.0**-53
        return unit

    def uniform_pair(self, stream: str, keys: Keys) -> tuple[Floats, Floats]:
        """Two independent uniform draws in (0, 1) per key, from one hash (32 bits each).

        Halves the hashing for the per-event draws, where 32 bits of resolution are plenty.
        """
        z = self._hash(stream, keys)
        high = (z >> np.uint64(32)).astype(np.float64)
        low = (z & np.uint64(0xFFFFFFFF)).astype(np.float64)
        high += 0.5
        high *= 2.0**-32
        low += 0.5
        low *= 2.0**-32
        return high, low

    def chance(self, stream: str, keys: Keys, probability: float | Floats) -> Bools:
        """True with the given probability (a scalar or one per key)."""
        return np.asarray(self.uniform(stream, keys) < probability, dtype=np.bool_)

    def integers(self, stream: str, keys: Keys, low: int, high: int) -> Ints:
        """Integers drawn uniformly from [low, high)."""
        if high <= low:
            raise ValueError(f"empty integer range [{low}, {high})")
        spread = self.uniform(stream, keys) * (high - low)
        return np.asarray(spread, dtype=np.int64) + low

    def choice(self, stream: str, keys: Keys, weights: Sequence[float] | Floats) -> Ints:
        """Indices into `weights`, each drawn with probability proportional to its weight."""
        cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
        if cumulative.size == 0 or cumulative[-1] <= 0:
            raise ValueError("choice needs at least one positive weight")
        picked = np.searchsorted(cumulative / cumulative[-1], self.uniform(stream, keys))
        return np.minimum(picked, cumulative.size - 1).astype(np.int64)

    def normal(self, stream: str, keys: Keys) -> Floats:
        """Standard normal draws (Box-Muller over two sub-streams)."""
        radius = np.sqrt(-2.0 * np.log(self.uniform(stream + "/radius", keys)))
        return np.asarray(
            radius * np.cos(2.0 * np.pi * self.uniform(stream + "/angle", keys)), dtype=np.float64
        )

    def exponential(self, stream: str, keys: Keys, mean: float | Floats) -> Floats:
        """Exponential draws with the given mean."""
        return np.asarray(-np.log(self.uniform(stream, keys)) * mean, dtype=np.float64)

    def geometric(self, stream: str, keys: Keys, p_more: float, cap: int) -> Ints:
        """How many further successes, each happening with `p_more`: 0, 1, 2... up to `cap`."""
        if not 0.0 < p_more < 1.0:
            raise ValueError(f"p_more must lie strictly between 0 and 1, got {p_more}")
        count = np.floor(np.log(self.uniform(stream, keys)) / np.log(p_more))
        return np.asarray(np.minimum(count, cap), dtype=np.int64)
