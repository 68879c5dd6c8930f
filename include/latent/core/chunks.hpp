// The one chunked loop: every piece of code that walks a batch of columns
// `batch_size` at a time (inference in every model, evaluation in fit,
// distance blocks in the search index and the kNN imputer) calls
// for_chunks, so the batch size is validated in one place:
//
//   batch_size <= 0   -> ConfigError naming the value
//   no columns        -> f is never called (the caller returns an empty result)
//
// It lives in core/ (not in models/network.hpp) because train/ and apps/
// use it too and train/ must not include models/. Network::for_chunks and
// Network::predict are the model-level entry (they add the row check).
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <string>

#include "latent/core/error.hpp"
#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

// `what` is a C string so that a call that passes builds no std::string
// (no allocation in a serving call).
inline void check_batch_size(Index batch_size, const char* what) {
    if (batch_size <= 0) throw ConfigError(std::string(what) + ": expected batch_size > 0, found " + std::to_string(batch_size));
}

}  // namespace detail

// f(start, n) for consecutive ranges [start, start + n) covering [begin, end),
// n = batch_size except for the last range.
template <class F>
void for_chunks(Index begin, Index end, Index batch_size, const char* what, F&& f) {
    detail::check_batch_size(batch_size, what);
    for (Index start = begin; start < end; start += batch_size) f(start, std::min(batch_size, end - start));
}

// f(chunk, start) with chunk = x.middleCols(start, n) as a Matrix (layers
// take const Matrix&): x itself when one chunk covers it (no copy),
// otherwise a copy in `buffer` (reused, so equal chunk sizes allocate once).
template <class S, class F>
void for_column_chunks(const Matrix<S>& x, Index batch_size, Matrix<S>& buffer, const char* what, F&& f) {
    for_chunks(0, x.cols(), batch_size, what, [&](Index start, Index n) {
        if (n == x.cols()) {
            f(x, start);
            return;
        }
        buffer = x.middleCols(start, n);
        f(static_cast<const Matrix<S>&>(buffer), start);
    });
}

LATENT_NAMESPACE_END
