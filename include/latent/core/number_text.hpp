// Numbers to and from text, independent of the process locale: a program
// that sets a decimal-comma locale (as Qt applications do) must still write
// "0.5" and read "0.5". Everything in latent that turns a number into text
// for a file, or reads one back (model configs, CSV, ratings), goes through
// these (std::to_chars / std::from_chars; printf / strtod follow the locale).
#pragma once

#include "latent/core/abi.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

LATENT_NAMESPACE_BEGIN
namespace detail {

// `v` with `precision` significant digits, exactly as printf("%.*g") in the
// C locale ("nan", "inf" and "-inf" for the non-finite values).
inline std::string format_number(double v, int precision = 17) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, precision);
    return std::string(buf, r.ptr);
}

// Parses the whole of `s` as a decimal floating-point number (a leading '+',
// "inf" and "nan" accepted). Out of range: +-inf on overflow, +-0 on
// underflow (as strtod). False when `s` is not entirely a number.
inline bool parse_number(std::string_view s, double& out) {
    if (!s.empty() && s[0] == '+') {
        s.remove_prefix(1);
        if (!s.empty() && (s[0] == '+' || s[0] == '-')) return false;
    }
    if (s.empty()) return false;
    double v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
    if (r.ptr != s.data() + s.size()) return false;
    if (r.ec == std::errc::result_out_of_range) {
        const bool negative = s[0] == '-';
        const auto e = s.find_first_of("eE");
        const std::string_view mant = s.substr(negative ? 1 : 0, e == std::string_view::npos ? std::string_view::npos : e - (negative ? 1 : 0));
        const bool tiny = e != std::string_view::npos ? (e + 1 < s.size() && s[e + 1] == '-')
                                                       : (mant.rfind("0.", 0) == 0 || mant.rfind(".", 0) == 0);
        v = tiny ? 0.0 : std::numeric_limits<double>::infinity();
        if (negative) v = -v;
    } else if (r.ec != std::errc()) {
        return false;
    }
    out = v;
    return true;
}

// Parses the whole of `s` as a decimal integer (a leading '+' accepted).
// False when it is not one or does not fit in 64 bits.
inline bool parse_integer(std::string_view s, std::int64_t& out) {
    if (!s.empty() && s[0] == '+') {
        s.remove_prefix(1);
        if (!s.empty() && s[0] == '-') return false;
    }
    if (s.empty()) return false;
    std::int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v, 10);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return false;
    out = v;
    return true;
}

}  // namespace detail
LATENT_NAMESPACE_END
