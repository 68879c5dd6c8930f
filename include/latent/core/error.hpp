// The exception hierarchy: everything latent throws derives from latent::Error,
// and every message names what was expected and what was found.
#pragma once

#include "latent/core/abi.hpp"

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

LATENT_NAMESPACE_BEGIN

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// A tensor or layer shape did not match what a layer or loss expects.
class ShapeError : public Error {
public:
    using Error::Error;
};

// Input data is unusable: empty, NaN/Inf, malformed rows or cells.
class DataError : public Error {
public:
    using Error::Error;
};

// A file is unreadable, truncated, corrupted or of another kind/version.
class FormatError : public Error {
public:
    using Error::Error;
};

// An argument or option is out of range (negative rate, zero batch size, ...).
class ConfigError : public Error {
public:
    using Error::Error;
};

// Training diverged (NaN/Inf loss or gradient).
class NumericError : public Error {
public:
    using Error::Error;
};

// A feature was asked for that this build does not have (zlib, OpenMP, ...).
class FeatureError : public Error {
public:
    using Error::Error;
};

namespace detail {

template <class... Parts>
std::string concat(Parts&&... parts) {
    std::ostringstream out;
    (out << ... << std::forward<Parts>(parts));
    return out.str();
}

// require(cond, ErrorType{"msg"}) reads better than if/throw at every check.
template <class E, class... Parts>
void require(bool ok, Parts&&... parts) {
    if (!ok) throw E(concat(std::forward<Parts>(parts)...));
}

}  // namespace detail
LATENT_NAMESPACE_END
