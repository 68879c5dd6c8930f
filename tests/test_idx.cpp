// IDX files (data/idx.hpp): round trips of images and labels, bad files and
// their FormatErrors, load_fashion_mnist on plain and gzip-compressed files, and
// (tagged [dataset]) the real Fashion-MNIST when it is installed.
#include "support.hpp"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <latent/latent.hpp>

#ifdef LATENT_HAS_ZLIB
#include <zlib.h>
#endif

using latent::Index;

namespace {

// A fresh directory under the system temp dir, removed at scope exit.
struct TempDir : latent_test::TempDir {
    TempDir() : latent_test::TempDir("latent_test_idx_") {}
};

void put_u32_be(std::string& s, std::uint32_t v) {
    s += static_cast<char>((v >> 24) & 0xff);
    s += static_cast<char>((v >> 16) & 0xff);
    s += static_cast<char>((v >> 8) & 0xff);
    s += static_cast<char>(v & 0xff);
}

// IDX bytes: magic 00 00 08 ndims, big-endian dims, payload.
std::string idx_bytes(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& payload) {
    std::string s;
    s += '\0';
    s += '\0';
    s += '\x08';
    s += static_cast<char>(dims.size());
    for (auto d : dims) put_u32_be(s, d);
    s.append(payload.begin(), payload.end());
    return s;
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(f.good());
}

// n images of h x w with pixel (img, y, x) = (img*31 + y*7 + x) mod 256.
std::vector<std::uint8_t> image_payload(int n, int h, int w) {
    std::vector<std::uint8_t> p;
    for (int i = 0; i < n; ++i)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) p.push_back(static_cast<std::uint8_t>((i * 31 + y * 7 + x) % 256));
    return p;
}

#ifdef LATENT_HAS_ZLIB
void write_gz(const std::string& path, const std::string& bytes) {
    gzFile g = gzopen(path.c_str(), "wb");
    REQUIRE(g != nullptr);
    REQUIRE(gzwrite(g, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(g) == Z_OK);
}
#endif

}  // namespace

TEST_CASE("IDX images and labels round trip", "[data][idx]") {
    TempDir dir;
    const int n = 5, h = 3, w = 4;
    write_bytes(dir.file("img"), idx_bytes({n, h, w}, image_payload(n, h, w)));
    write_bytes(dir.file("lab"), idx_bytes({n}, {3, 1, 4, 1, 5}));

    const latent::IdxHeader hd = latent::read_idx_header(dir.file("img"));
    CHECK(hd.dtype == 0x08);
    CHECK(hd.dims == std::vector<Index>{n, h, w});
    CHECK(latent::idx_image_shape(hd) == latent::Shape{1, h, w});

    const auto raw = latent::read_idx_images<double>(dir.file("img"), 0, /*scale=*/false);
    REQUIRE(raw.rows() == h * w);
    REQUIRE(raw.cols() == n);
    for (int i = 0; i < n; ++i)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) CHECK(raw(y * w + x, i) == (i * 31 + y * 7 + x) % 256);

    const auto scaled = latent::read_idx_images<float>(dir.file("img"));
    CHECK(scaled.maxCoeff() <= 1.0f);
    CHECK(scaled(5, 2) == Approx(raw(5, 2) / 255.0));

    const auto lim = latent::read_idx_images<double>(dir.file("img"), 2, false);
    REQUIRE(lim.cols() == 2);
    CHECK(lim == raw.leftCols(2));
    CHECK(latent::read_idx_images<double>(dir.file("img"), 99, false).cols() == n);  // limit above N: all

    CHECK(latent::read_idx_labels(dir.file("lab")) == std::vector<int>{3, 1, 4, 1, 5});
    CHECK(latent::read_idx_labels(dir.file("lab"), 3) == std::vector<int>{3, 1, 4});
}

TEST_CASE("IDX bad files throw FormatError saying what is wrong", "[data][idx]") {
    TempDir dir;
    const std::string img = dir.file("img");

    SECTION("wrong magic") {
        std::string b = idx_bytes({2, 2, 2}, image_payload(2, 2, 2));
        b[0] = 'P';
        b[1] = 'K';
        write_bytes(img, b);
        LATENT_CHECK_THROWS_WITH_ALL(latent::read_idx_images<float>(img), latent::FormatError, "not an IDX file", "magic",
                                     "50 4b 08 03");
    }
    SECTION("unsupported data type") {
        std::string b = idx_bytes({2, 2, 2}, image_payload(2, 2, 2));
        b[2] = '\x0d';
        write_bytes(img, b);
        LATENT_CHECK_THROWS_WITH_ALL(latent::read_idx_images<float>(img), latent::FormatError, "0x08", "0x0d");
    }
    SECTION("truncated header") {
        write_bytes(img, idx_bytes({2, 2, 2}, {}).substr(0, 9));
        LATENT_CHECK_THROWS_WITH_ALL(latent::read_idx_images<float>(img), latent::FormatError, "truncated IDX header");
    }
    SECTION("truncated data") {
        auto p = image_payload(3, 4, 4);
        p.resize(40);  // 48 expected
        write_bytes(img, idx_bytes({3, 4, 4}, p));
        LATENT_CHECK_THROWS_WITH_ALL(latent::read_idx_images<float>(img), latent::FormatError, "truncated", "expected 48 bytes",
                                     "found 40");
        // the first two images (32 bytes) are intact and can still be read with a limit
        CHECK(latent::read_idx_images<float>(img, 2).cols() == 2);
        LATENT_CHECK_THROWS_WITH_ALL(latent::read_idx_images<float>(img, 3), latent::FormatError, "found 40");
    }
    SECTION("trailing bytes") {
        auto p = image_payload(2, 2, 2);
        p.push_back(7);
        write_bytes(img, idx_bytes({2, 2, 2}, p));
        LATENT_CHECK_THROWS_WITH_ALL(latent::read_idx_images<float>(img), latent::FormatError, "expected 8 bytes", "found more");
    }
    SECTION("labels read as images and images read as labels") {
        write_bytes(img, idx_bytes({2, 2, 2}, image_payload(2, 2, 2)));
        write_bytes(dir.file("lab"), idx_bytes({2}, {0, 1}));
        LATENT_CHECK_THROWS_WITH_ALL(latent::read_idx_labels(img), latent::FormatError, "label file", "3 dimensions");
        LATENT_CHECK_THROWS_WITH_ALL(latent::read_idx_images<float>(dir.file("lab")), latent::FormatError, "image file");
    }
    SECTION("missing file") {
        LATENT_CHECK_THROWS_WITH_ALL(latent::read_idx_images<float>(dir.file("nope")), latent::FormatError, "cannot open", "nope");
    }
}

TEST_CASE("load_fashion_mnist finds plain files and checks image/label counts", "[data][idx]") {
    TempDir dir;
    write_bytes(dir.file("train-images-idx3-ubyte"), idx_bytes({4, 28, 28}, image_payload(4, 28, 28)));
    write_bytes(dir.file("train-labels-idx1-ubyte"), idx_bytes({4}, {9, 0, 0, 3}));
    write_bytes(dir.file("t10k-images-idx3-ubyte"), idx_bytes({2, 28, 28}, image_payload(2, 28, 28)));
    write_bytes(dir.file("t10k-labels-idx1-ubyte"), idx_bytes({3}, {1, 2, 3}));  // one label too many
    CHECK(latent::fashion_mnist_available(dir.path.string()));
    CHECK_FALSE(latent::fashion_mnist_available((dir.path / "elsewhere").string()));

    const auto train = latent::load_fashion_mnist<float>(dir.path.string(), latent::Split::train);
    CHECK(train.x.rows() == 784);
    CHECK(train.x.cols() == 4);
    CHECK(train.labels == std::vector<int>{9, 0, 0, 3});
    CHECK(train.shape == latent::Shape{1, 28, 28});
    CHECK(latent::load_fashion_mnist<float>(dir.path.string(), latent::Split::train, 2).x.cols() == 2);

    LATENT_CHECK_THROWS_WITH_ALL(latent::load_fashion_mnist<float>(dir.path.string(), latent::Split::test), latent::FormatError,
                                 "counts differ", "2 images", "3 labels");
    LATENT_CHECK_THROWS_WITH_ALL(latent::load_fashion_mnist<float>((dir.path / "elsewhere").string()), latent::FormatError,
                                 "train-images-idx3-ubyte", "found none");
}

TEST_CASE("IDX files compressed with gzip are read through zlib", "[data][idx][zlib]") {
    TempDir dir;
    const std::string plain = idx_bytes({6, 5, 5}, image_payload(6, 5, 5));
    write_gz(dir.file("train-images-idx3-ubyte.gz"), plain);
    write_gz(dir.file("train-labels-idx1-ubyte.gz"), idx_bytes({6}, {0, 1, 2, 3, 4, 5}));
    write_bytes(dir.file("plain-idx3-ubyte"), plain);

    CHECK(latent::find_idx_file(dir.path.string(), "train-images-idx3-ubyte") == dir.file("train-images-idx3-ubyte.gz"));
    const auto gz = latent::read_idx_images<double>(dir.file("train-images-idx3-ubyte.gz"));
    const auto pl = latent::read_idx_images<double>(dir.file("plain-idx3-ubyte"));
    CHECK(gz == pl);
    CHECK(latent::read_idx_images<double>(dir.file("train-images-idx3-ubyte.gz"), 4) == pl.leftCols(4));
    CHECK(latent::read_idx_labels(dir.file("train-labels-idx1-ubyte.gz")) == std::vector<int>{0, 1, 2, 3, 4, 5});

    // the plain file is preferred when both exist
    write_bytes(dir.file("train-images-idx3-ubyte"), plain);
    CHECK(latent::find_idx_file(dir.path.string(), "train-images-idx3-ubyte") == dir.file("train-images-idx3-ubyte"));

    SECTION("a gzip file whose IDX payload is short is a truncated IDX file") {
        write_gz(dir.file("short.gz"), plain.substr(0, plain.size() - 10));
        LATENT_CHECK_THROWS_WITH_ALL(latent::read_idx_images<float>(dir.file("short.gz")), latent::FormatError, "truncated",
                                     "expected 150 bytes", "found 140");
    }
    SECTION("a gzip stream cut short is reported") {
        write_gz(dir.file("cut.gz"), plain);
        std::string bytes = latent::detail::read_file_bytes(dir.file("cut.gz"));
        write_bytes(dir.file("cut.gz"), bytes.substr(0, bytes.size() / 2));
        CHECK_THROWS_AS(latent::read_idx_images<float>(dir.file("cut.gz")), latent::FormatError);
    }
}

// ------------------------------------------------------------------ the real data set

// Runs only where Fashion-MNIST is installed (Debian: dataset-fashion-mnist;
// LATENT_FASHION_MNIST_DIR overrides the directory). Catch2 v2 has no SKIP,
// so elsewhere it WARNs with the reason and returns: the case passes and the
// warning is printed (with -s or --success, or on failure of another case).

TEST_CASE("Fashion-MNIST reads with the documented sizes", "[data][dataset]") {
    const char* env = std::getenv("LATENT_FASHION_MNIST_DIR");
    const std::string dir = env && *env ? env : "/usr/share/datasets/fashion-mnist";
    if (!latent::fashion_mnist_available(dir)) {
#if defined(LATENT_CATCH2_V3)
        SKIP("Fashion-MNIST not found at " << dir << " (apt-get install dataset-fashion-mnist)");
#else
        WARN("SKIPPED: Fashion-MNIST not found at " << dir << " (apt-get install dataset-fashion-mnist)");
        return;
#endif
    }
#ifndef LATENT_HAS_ZLIB
    if (latent::find_idx_file(dir, "train-images-idx3-ubyte").size() > 3 &&
        latent::detail::ends_with(latent::find_idx_file(dir, "train-images-idx3-ubyte"), ".gz")) {
        WARN("SKIPPED: Fashion-MNIST is gzip-compressed and this build has no zlib");
        return;
    }
#endif
    const auto train = latent::load_fashion_mnist<float>(dir, latent::Split::train);
    const auto test = latent::load_fashion_mnist<float>(dir, latent::Split::test);
    CHECK(train.x.rows() == 784);
    CHECK(train.x.cols() == 60000);
    CHECK(test.x.cols() == 10000);
    CHECK(train.labels.size() == 60000);
    CHECK(test.labels.size() == 10000);
    CHECK(train.shape == latent::Shape{1, 28, 28});
    CHECK(train.x.minCoeff() == 0.0f);
    CHECK(train.x.maxCoeff() == 1.0f);
    std::vector<int> count(10, 0);
    int out_of_range = 0;
    for (int l : train.labels) {
        if (l < 0 || l > 9)
            ++out_of_range;
        else
            ++count[static_cast<std::size_t>(l)];
    }
    CHECK(out_of_range == 0);
    for (int l : test.labels) out_of_range += (l < 0 || l > 9);
    CHECK(out_of_range == 0);
    for (int k : count) CHECK(k == 6000);
}
