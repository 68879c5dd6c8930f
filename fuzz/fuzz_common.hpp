// Shared by the fuzz targets: every target feeds outside bytes to one
// reader; a latent::Error is the expected answer to bad bytes, anything
// else (another exception, a crash, a sanitizer report, a leak, a hang)
// is a bug. Uncaught exceptions abort, which libFuzzer reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <latent/core/error.hpp>

namespace latent_fuzz {

inline std::string bytes(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs f; swallows latent::Error only.
template <class F>
void expect_ok_or_error(F&& f) {
    try {
        f();
    } catch (const latent::Error&) {
    }
}

}  // namespace latent_fuzz
