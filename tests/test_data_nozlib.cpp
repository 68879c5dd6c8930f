// latent-test: own-executable
// A build without zlib: gzip files are refused with FeatureError naming the
// missing feature and both fixes, and plain IDX files still read.
// (This translation unit undefines LATENT_HAS_ZLIB before including latent.)
#undef LATENT_HAS_ZLIB

#include "catch.hpp"
#include "support.hpp"

#include <latent/latent.hpp>

#include <filesystem>
#include <fstream>
#include <string>

TEST_CASE("without zlib a .gz IDX file throws FeatureError saying how to fix it", "[data][idx]") {
    STATIC_REQUIRE_FALSE(latent::has_zlib());
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("latent_nozlib_" + std::to_string(std::hash<std::string>{}(fs::current_path().string()) % 100000));
    fs::create_directories(dir);
    const std::string gz = (dir / "x-idx1-ubyte.gz").string(), hidden = (dir / "x-idx1-ubyte").string();
    {
        std::ofstream f(gz, std::ios::binary);
        f.write("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8);  // gzip magic (content does not matter)
    }
    {
        // gzip content behind a plain name is recognised by its magic bytes
        std::ofstream f(hidden, std::ios::binary);
        f.write("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8);
    }
    LATENT_CHECK_THROWS_WITH_ALL(latent::read_idx_labels(gz), latent::FeatureError, "zlib", "gunzip", "LATENT_WITH_ZLIB");
    LATENT_CHECK_THROWS_WITH_ALL(latent::read_idx_labels(hidden), latent::FeatureError, "gzip-compressed");

    const std::string plain = (dir / "p-idx1-ubyte").string();
    {
        std::ofstream f(plain, std::ios::binary);
        f.write("\x00\x00\x08\x01\x00\x00\x00\x02\x05\x06", 10);
    }
    CHECK(latent::read_idx_labels(plain) == std::vector<int>{5, 6});
    std::error_code ec;
    fs::remove_all(dir, ec);
}
