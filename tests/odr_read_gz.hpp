// Shared by the two ODR translation units (test_odr.cpp, odr_second_tu.cpp):
// what reading a .gz IDX file does in the including file's configuration.
// In an anonymous namespace, so each file keeps its own copy, compiled
// against its own latent (with or without zlib).
#pragma once

#include <string>

#include <latent/latent.hpp>

namespace {

// "feature" (FeatureError: built without zlib), "format" (another
// latent::Error: zlib read it and found bad contents) or "read".
inline std::string read_gz_outcome(const std::string& path) {
    try {
        latent::read_idx_labels(path);
        return "read";
    } catch (const latent::FeatureError&) {
        return "feature";
    } catch (const latent::Error&) {
        return "format";
    }
}

}  // namespace
