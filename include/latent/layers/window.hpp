// Window options and size arithmetic shared by convolution and pooling:
// Size2 (a height, width pair), Padding (valid, same, explicit) and the
// per-axis plan of a sliding window.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <string>

#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

// A (height, width) pair; an integer means the same value for both.
struct Size2 {
    Index h = 1;
    Index w = 1;
    constexpr Size2() = default;
    constexpr Size2(Index v) : h(v), w(v) {}  // NOLINT: implicit from one value is intended
    constexpr Size2(Index height, Index width) : h(height), w(width) {}
    friend constexpr bool operator==(Size2 a, Size2 b) { return a.h == b.h && a.w == b.w; }
    friend constexpr bool operator!=(Size2 a, Size2 b) { return !(a == b); }
    std::string str() const { return h == w ? std::to_string(h) : std::to_string(h) + "x" + std::to_string(w); }
};

// Padding of a convolution or pooling window:
//   valid     no padding; windows lie inside the input
//   same      Keras/TensorFlow 'same': output = ceil(input / stride), the
//             padding split evenly with any odd pixel at the bottom/right
//             (for transposed conv: output = input * stride)
//   explicit  `amount` zero rows/columns on each side (PyTorch's padding=)
struct Padding {
    enum class Kind { valid, same, explicit_amount };
    Kind kind = Kind::valid;
    Size2 amount{0};

    constexpr Padding() = default;
    constexpr Padding(Index p) : kind(Kind::explicit_amount), amount(p) {}  // NOLINT: implicit from an amount is intended
    constexpr Padding(Index ph, Index pw) : kind(Kind::explicit_amount), amount(ph, pw) {}
    static constexpr Padding valid() { return Padding(); }
    static Padding same() {
        Padding p;
        p.kind = Kind::same;
        return p;
    }
    // "same", "valid" or an integer amount.
    static Padding parse(const std::string& s) {
        if (s == "same") return same();
        if (s == "valid") return valid();
        char* end = nullptr;
        const long long v = std::strtoll(s.c_str(), &end, 10);
        if (end == s.c_str() || *end != '\0' || v < 0)
            throw ConfigError("padding: expected 'same', 'valid' or an amount >= 0, found '" + s + "'");
        return Padding(static_cast<Index>(v));
    }
    std::string name() const { return kind == Kind::same ? "same" : kind == Kind::valid ? "valid" : "explicit"; }
    std::string str() const { return kind == Kind::explicit_amount ? amount.str() : name(); }
};

namespace detail {

// One axis of a window operation: padding before the first window and the
// number of window positions.
struct AxisPlan {
    Index pad_before = 0;
    Index out = 0;
};

// Forward (conv / pooling) sizes along one axis: input n, dilated window
// extent k_eff, stride s. Throws ShapeError (via `where`) when nothing fits.
inline AxisPlan plan_window_axis(Index n, Index k_eff, Index s, const Padding& pad, Index explicit_amount, bool ceil_mode,
                                 const std::string& where, const char* axis, Shape in) {
    AxisPlan a;
    if (pad.kind == Padding::Kind::same) {
        a.out = (n + s - 1) / s;
        const Index total = std::max<Index>((a.out - 1) * s + k_eff - n, 0);
        a.pad_before = total / 2;
        return a;
    }
    const Index p = pad.kind == Padding::Kind::valid ? 0 : explicit_amount;
    const Index span = n + 2 * p - k_eff;
    if (span < 0)
        throw ShapeError(where + ": expected an input of " + axis + " >= " + std::to_string(k_eff - 2 * p) + " (window " +
                         std::to_string(k_eff) + ", padding " + std::to_string(p) + "), found input " + in.str() +
                         (in.is_flat() ? " (a flat vector: add a Reshape to c x h x w first)" : ""));
    a.pad_before = p;
    a.out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    // PyTorch's rule: the last window must start inside the input or the leading padding.
    if (ceil_mode && (a.out - 1) * s >= n + p) --a.out;
    return a;
}

}  // namespace detail

LATENT_NAMESPACE_END
