#!/usr/bin/python3
"""Reference values for latent::Rng (tests/test_rng.cpp), computed independently:
xoshiro256** (Blackman & Vigna) seeded by four splitmix64 outputs, uniform =
(next >> 11) * 2^-53, normal = Box-Muller cos branch (then the sin branch).

Run:  /usr/bin/python3 tests/golden/rng_golden.py
"""
import math

M = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return x, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


class Xoshiro:
    def __init__(self, seed):
        self.s = []
        x = seed
        for _ in range(4):
            x, z = splitmix64(x)
            self.s.append(z)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53


r = Xoshiro(42)
print("const std::uint64_t next42[4] = {%s};" % ", ".join("0x%016xull" % r.next() for _ in range(4)))
r = Xoshiro(42)
print("const double uniform42[3] = {%s};" % ", ".join("%.17g" % r.uniform() for _ in range(3)))
r = Xoshiro(7)
u1, u2 = r.uniform(), r.uniform()
rad = math.sqrt(-2.0 * math.log(u1))
print("const double normal7[2] = {%.17g, %.17g};" % (rad * math.cos(2 * math.pi * u2), rad * math.sin(2 * math.pi * u2)))
