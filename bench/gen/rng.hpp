// Deterministic hashing, random numbers and bijections for the data-set generator. Everything the
// generator writes is a function of (seed, source, index), so nothing has to be remembered.
#pragma once

#include <cstdint>

namespace cdphub::gen {

// The SplitMix64 finalizer: a bijection on 64-bit values with good avalanche.
constexpr uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

constexpr uint64_t hash_of(uint64_t a, uint64_t b, uint64_t c = 0) {
    return mix64(mix64(mix64(a + 0x9e3779b97f4a7c15ULL) ^ b) + c);
}

// Tags that keep the hash streams of different purposes apart.
enum Tag : uint64_t {
    kTagPerson = 1,
    kTagRecycle = 2,
    kTagSession = 3,
    kTagSchedule = 4,
    kTagSourceLayout = 5,
    kTagDevice = 6,
    kTagMessage = 7,
    kTagNumbers = 8,
};

// SplitMix64 generator; cheap to create, so every session gets its own.
class Rng {
  public:
    explicit Rng(uint64_t seed = 0) : s_(seed) {}
    uint64_t next() {
        s_ += 0x9e3779b97f4a7c15ULL;
        return mix64(s_);
    }
    // Uniform in [0, n); n > 0.
    uint64_t below(uint64_t n) {
        return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
    }
    // Uniform in [lo, hi]; lo <= hi.
    int64_t between(int64_t lo, int64_t hi) {
        return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
    }
    double real() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    bool chance(double p) { return real() < p; }
    // 1 + number of successes before the first failure, at most `max`: a geometric length.
    int length(double p_more, int max) {
        int n = 1;
        while (n < max && chance(p_more)) ++n;
        return n;
    }
    template <class T, std::size_t N>
    const T& pick(const T (&a)[N]) {
        return a[below(N)];
    }

  private:
    uint64_t s_;
};

// x -> (a*x + b) mod m, a bijection on [0, m) when gcd(a, m) = 1. Used to turn a person index into
// ids and numbers that look random but can never collide.
class Affine {
  public:
    Affine() = default;
    Affine(uint64_t m, uint64_t key) : m_(m) {
        a_ = (mix64(key) % m) | 1;
        while (gcd(a_, m_) != 1) a_ += 2;
        a_ %= m_;
        if (a_ == 0) a_ = 1;
        b_ = mix64(key ^ 0x5bd1e995ULL) % m;
    }
    uint64_t operator()(uint64_t x) const {
        return static_cast<uint64_t>((static_cast<unsigned __int128>(a_) * (x % m_) + b_) % m_);
    }
    uint64_t modulus() const { return m_; }

    static uint64_t gcd(uint64_t a, uint64_t b) {
        while (b != 0) {
            const uint64_t t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

  private:
    uint64_t m_ = 1, a_ = 1, b_ = 0;
};

// A keyed pseudo-random permutation of [0, n): a 4-round Feistel network on the smallest even
// bit width that holds n, with cycle walking. Invertible, so "which person has history k" and
// "which history is person p's" are both O(1) without a table.
class Permutation {
  public:
    Permutation() = default;
    Permutation(uint64_t n, uint64_t key) : n_(n), key_(key) {
        int bits = 2;
        while (bits < 62 && (uint64_t{1} << bits) < n) bits += 2;
        half_ = bits / 2;
        mask_ = (uint64_t{1} << half_) - 1;
    }
    uint64_t operator()(uint64_t x) const {
        if (n_ <= 1) return 0;
        do x = encrypt(x);
        while (x >= n_);
        return x;
    }
    uint64_t inverse(uint64_t y) const {
        if (n_ <= 1) return 0;
        do y = decrypt(y);
        while (y >= n_);
        return y;
    }

  private:
    uint64_t f(uint64_t round, uint64_t v) const {
        return mix64(key_ + round * 0x9e3779b97f4a7c15ULL + v) & mask_;
    }
    uint64_t encrypt(uint64_t x) const {
        uint64_t l = x >> half_, r = x & mask_;
        for (uint64_t i = 0; i < 4; ++i) {
            const uint64_t t = l ^ f(i, r);
            l = r;
            r = t;
        }
        return (l << half_) | r;
    }
    uint64_t decrypt(uint64_t y) const {
        uint64_t l = y >> half_, r = y & mask_;
        for (uint64_t i = 4; i-- > 0;) {
            const uint64_t t = r ^ f(i, l);
            r = l;
            l = t;
        }
        return (l << half_) | r;
    }

    uint64_t n_ = 1, key_ = 0, mask_ = 0;
    int half_ = 1;
};

}  // namespace cdphub::gen
