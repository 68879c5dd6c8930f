// Scalar-templated aliases, Shape and Mode.
//
// A batch is a column-major matrix with one sample per column
// (features x batch). An image sample is flattened channel-major:
// index = c*H*W + y*W + x. Shapes travel with layers, not with matrices.
#pragma once

#include "latent/core/abi.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <ostream>
#include <string>

#include "latent/core/error.hpp"

LATENT_NAMESPACE_BEGIN

using Index = Eigen::Index;

template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <class S>
using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;
template <class S>
using RowVector = Eigen::Matrix<S, 1, Eigen::Dynamic>;
template <class S>
using MatrixMap = Eigen::Map<Matrix<S>>;
template <class S>
using ConstMatrixMap = Eigen::Map<const Matrix<S>>;

// Train mode enables dropout, noise and batch statistics; infer mode does not.
enum class Mode { train, infer };

// Channels x height x width of one sample. A flat feature vector of n
// values is Shape{n} (c = n, h = w = 1).
struct Shape {
    Index c = 0;
    Index h = 1;
    Index w = 1;

    constexpr Shape() = default;
    constexpr Shape(Index channels, Index height = 1, Index width = 1)  // NOLINT: implicit from a size is intended
        : c(channels), h(height), w(width) {}

    constexpr Index size() const { return c * h * w; }
    constexpr bool is_flat() const { return h == 1 && w == 1; }
    constexpr bool empty() const { return size() == 0; }

    friend constexpr bool operator==(Shape a, Shape b) { return a.c == b.c && a.h == b.h && a.w == b.w; }
    friend constexpr bool operator!=(Shape a, Shape b) { return !(a == b); }

    std::string str() const {
        if (is_flat()) return "(" + std::to_string(c) + ")";
        return "(" + std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w) + ")";
    }
    friend std::ostream& operator<<(std::ostream& out, Shape s) { return out << s.str(); }
};

namespace detail {
// Every size non-negative, at most 2^31 - 1 elements in all (8 GB of float
// per sample): larger is a corrupted file or configuration, and products
// of such sizes would overflow.
inline bool shape_is_sane(Shape s) {
    constexpr Index max = 2147483647;
    if (s.c < 0 || s.h < 0 || s.w < 0 || s.c > max || s.h > max || s.w > max) return false;
    if (s.c == 0 || s.h == 0 || s.w == 0) return true;
    return s.h <= max / s.w && s.c <= max / (s.h * s.w);
}
}  // namespace detail

// Name of a scalar type as written in files and messages.
template <class S>
constexpr const char* scalar_name();
template <>
constexpr const char* scalar_name<float>() { return "float32"; }
template <>
constexpr const char* scalar_name<double>() { return "float64"; }

namespace detail {

template <class D>
std::string shape_of(const Eigen::EigenBase<D>& m) {
    return std::to_string(m.rows()) + "x" + std::to_string(m.cols());
}

// Throws ShapeError unless m is rows x cols (cols < 0: any column count).
template <class D>
void check_dims(const Eigen::EigenBase<D>& m, Index rows, Index cols, const std::string& what) {
    if (m.rows() != rows || (cols >= 0 && m.cols() != cols)) {
        throw ShapeError(what + ": expected " + std::to_string(rows) + "x" +
                         (cols >= 0 ? std::to_string(cols) : std::string("batch")) + ", found " + shape_of(m));
    }
}

// Throws DataError naming the first non-finite entry.
// True when every value is finite. x * 0 is 0 for a finite x and NaN for an
// infinite or NaN one, and Eigen sums the products in vector registers: a
// pass at memory speed, where a loop over std::isfinite (or Eigen's
// allFinite) takes a cycle or more per value (15-20 % of a deep-AE training
// step checked that way).
template <class D>
bool all_finite(const Eigen::DenseBase<D>& m) {
    using Scalar = typename D::Scalar;
    return (m.derived().array() * Scalar(0)).sum() == Scalar(0);
}

template <class D>
void check_finite(const Eigen::DenseBase<D>& m, const std::string& what) {
    if (all_finite(m)) return;  // the common case in one vectorized pass; the loop below finds the value
    for (Index j = 0; j < m.cols(); ++j)
        for (Index i = 0; i < m.rows(); ++i)
            if (!std::isfinite(static_cast<double>(m(i, j))))
                throw DataError(what + ": expected finite values, found " + std::to_string(static_cast<double>(m(i, j))) +
                                " at row " + std::to_string(i) + ", column " + std::to_string(j));
}

}  // namespace detail
LATENT_NAMESPACE_END
