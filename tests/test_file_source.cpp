// IdxSource, NpySource and CsvSource (data/file_source.hpp): what they read
// equals what the in-memory readers read; bad files throw FormatError/DataError
// naming what was expected and what was found; fit trains from them.
#include "support.hpp"

#include <cstdint>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include <latent/latent.hpp>

namespace fs = std::filesystem;
using latent::Index;
using latent::Matrix;

namespace {

using latent_test::npy_file;

struct TempDir : latent_test::TempDir {
    TempDir() : latent_test::TempDir("latent_test_file_source_") {}
};

void write(const std::string& path, const std::string& bytes) { latent::detail::write_file_atomic(path, bytes); }

std::string idx_file(Index n, Index h, Index w, std::vector<std::uint8_t>* payload) {
    std::string s("\0\0\x08\x03", 4);
    for (Index d : {n, h, w})
        for (int k = 3; k >= 0; --k) s += static_cast<char>((static_cast<std::uint32_t>(d) >> (8 * k)) & 0xff);
    payload->resize(static_cast<std::size_t>(n * h * w));
    for (std::size_t i = 0; i < payload->size(); ++i) (*payload)[i] = static_cast<std::uint8_t>((i * 37) % 256);
    s.append(payload->begin(), payload->end());
    return s;
}

template <class T>
std::string raw(const std::vector<T>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

template <class S>
Matrix<S> read_all(latent::DataSource<S>& src) {
    std::vector<Index> idx(static_cast<std::size_t>(src.samples()));
    std::iota(idx.begin(), idx.end(), Index{0});
    Matrix<S> x;
    src.gather(idx.data(), src.samples(), x, nullptr, nullptr);
    return x;
}

}  // namespace

TEST_CASE("IdxSource maps an IDX image file: the same values as read_idx_images", "[data][file_source]") {
    TempDir dir;
    std::vector<std::uint8_t> payload;
    const std::string bytes = idx_file(7, 3, 4, &payload);
    write(dir.file("img.idx"), bytes);
    latent::IdxSource<float> src(dir.file("img.idx"), {2, 2, false});
    CHECK(src.samples() == 7);
    CHECK(src.features() == 12);
    CHECK(src.shape() == latent::Shape(1, 3, 4));
    CHECK(read_all(src) == latent::read_idx_images<float>(dir.file("img.idx")));
    const Index pick[] = {5, 0, 5};
    Matrix<double> x;
    latent::IdxSource<double> raw_src(dir.file("img.idx"), {}, false);
    raw_src.gather(pick, 3, x, nullptr, nullptr);
    CHECK(x(1, 0) == static_cast<double>(payload[5 * 12 + 1]));
    src.release(0, 7);  // pages handed back are read again on demand
    CHECK(read_all(src) == latent::read_idx_images<float>(dir.file("img.idx")));

    write(dir.file("short.idx"), bytes.substr(0, bytes.size() - 5));
    LATENT_CHECK_THROWS_WITH_ALL(latent::IdxSource<float>(dir.file("short.idx")), latent::FormatError, "truncated IDX data",
                                 "expected 100 bytes", "found 95");
    write(dir.file("long.idx"), bytes + "xy");
    LATENT_CHECK_THROWS_WITH_ALL(latent::IdxSource<float>(dir.file("long.idx")), latent::FormatError, "expected 100 bytes", "found 102");
    write(dir.file("labels.idx"), std::string("\0\0\x08\x01\0\0\0\x02\x01\x02", 10));
    LATENT_CHECK_THROWS_WITH_ALL(latent::IdxSource<float>(dir.file("labels.idx")), latent::FormatError, "expected an IDX image file");
    write(dir.file("img.idx.gz"), std::string("\x1f\x8b\x08\x00", 4));
    LATENT_CHECK_THROWS_WITH_ALL(latent::IdxSource<float>(dir.file("img.idx.gz")), latent::FormatError, "uncompressed", "gzip");
    write(dir.file("empty.idx"), "");
    LATENT_CHECK_THROWS_WITH_ALL(latent::IdxSource<float>(dir.file("empty.idx")), latent::FormatError, "empty file");
    CHECK_THROWS_AS(latent::IdxSource<float>(dir.file("missing.idx")), latent::FormatError);
}

TEST_CASE("NpySource maps float32/float64 .npy arrays", "[data][file_source]") {
    TempDir dir;
    std::vector<float> f(5 * 6);
    std::vector<double> d(5 * 6);
    for (std::size_t i = 0; i < f.size(); ++i) f[i] = 0.25f * static_cast<float>(i), d[i] = -0.5 * static_cast<double>(i);
    write(dir.file("f.npy"), npy_file("<f4", "(5, 2, 3)", raw(f)));
    write(dir.file("d.npy"), npy_file("<f8", "(5, 6)", raw(d)));
    latent::NpySource<double> sf(dir.file("f.npy"));
    latent::NpySource<float> sd(dir.file("d.npy"));
    CHECK(sf.samples() == 5);
    CHECK(sf.features() == 6);
    const Matrix<double> xf = read_all(sf);
    const Matrix<float> xd = read_all(sd);
    CHECK(xf(4, 2) == 0.25 * (2 * 6 + 4));  // row 2 of the file is column 2, C order
    CHECK(xd(1, 3) == -0.5f * (3 * 6 + 1));

    write(dir.file("magic.npy"), "NUMPY not really a file at all, nope");
    LATENT_CHECK_THROWS_WITH_ALL(latent::NpySource<float>(dir.file("magic.npy")), latent::FormatError, "not a .npy file");
    write(dir.file("int.npy"), npy_file("<i8", "(5, 6)", raw(d)));
    LATENT_CHECK_THROWS_WITH_ALL(latent::NpySource<float>(dir.file("int.npy")), latent::FormatError, "'<f4'", "found '<i8'");
    write(dir.file("short.npy"), npy_file("<f8", "(6, 6)", raw(d)));
    LATENT_CHECK_THROWS_WITH_ALL(latent::NpySource<float>(dir.file("short.npy")), latent::FormatError, "truncated .npy data", "6 samples of 48 bytes");
    write(dir.file("long.npy"), npy_file("<f8", "(4, 6)", raw(d)));
    LATENT_CHECK_THROWS_WITH_ALL(latent::NpySource<float>(dir.file("long.npy")), latent::FormatError, "trailing bytes");
    write(dir.file("fortran.npy"), npy_file("<f8", "(5, 6)", raw(d), true));
    LATENT_CHECK_THROWS_WITH_ALL(latent::NpySource<float>(dir.file("fortran.npy")), latent::FormatError, "expected C order");
    write(dir.file("bad_shape.npy"), npy_file("<f8", "(5, -6)", raw(d)));
    LATENT_CHECK_THROWS_WITH_ALL(latent::NpySource<float>(dir.file("bad_shape.npy")), latent::FormatError, "non-negative sizes");
    std::string cut = npy_file("<f8", "(5, 6)", raw(d)).substr(0, 40);
    write(dir.file("cut.npy"), cut);
    LATENT_CHECK_THROWS_WITH_ALL(latent::NpySource<float>(dir.file("cut.npy")), latent::FormatError, "truncated .npy header");
}

TEST_CASE("CsvSource reads a CSV block by block: the same table as read_csv", "[data][file_source]") {
    TempDir dir;
    const std::string text =
        "a,b,\"c, quoted\"\n"
        "1,2,3\n"
        "\n"
        "# a comment line\n"
        "4,5,\"6\"\n"
        "7,8,9\r\n"
        "10,11,12\n"
        "13,14,15\n"
        "16,17,18";  // no final newline
    write(dir.file("t.csv"), text);
    latent::CsvOptions co;
    co.comment = '#';
    const auto table = latent::read_csv<double>(dir.file("t.csv"), co);
    for (Index block : {1, 2, 4, 10}) {
        latent::CsvSource<double> src(dir.file("t.csv"), co, {block, 1, false});
        CHECK(src.samples() == 6);
        CHECK(src.columns() == table.columns);
        CHECK(read_all(src) == table.data);
        const Index pick[] = {5, 0, 3, 5};
        Matrix<double> x;
        src.gather(pick, 4, x, nullptr, nullptr);
        CHECK(x(2, 0) == 18);
        CHECK(x(0, 2) == 10);
    }
    write(dir.file("nohead.csv"), "1,2\n3,4\n");
    latent::CsvSource<float> nh(dir.file("nohead.csv"));
    CHECK(nh.samples() == 2);
    CHECK(nh.columns() == std::vector<std::string>({"col0", "col1"}));

    write(dir.file("ragged.csv"), "1,2\n3,4\n5\n6,7\n");
    latent::CsvSource<float> ragged(dir.file("ragged.csv"), {}, {2, 1, false});
    const Index third[] = {2};
    Matrix<float> x;
    LATENT_CHECK_THROWS_WITH_ALL(ragged.gather(third, 1, x, nullptr, nullptr), latent::DataError, "ragged.csv", "line 3", "fields");
    write(dir.file("header_only.csv"), "a,b\n");
    LATENT_CHECK_THROWS_WITH_ALL(latent::CsvSource<float>(dir.file("header_only.csv")), latent::DataError, "at least one data row");
    write(dir.file("empty.csv"), "\n\n");
    LATENT_CHECK_THROWS_WITH_ALL(latent::CsvSource<float>(dir.file("empty.csv")), latent::DataError, "at least one row");
    CHECK_THROWS_AS(latent::CsvSource<float>(dir.file("missing.csv")), latent::FormatError);
    // skip_lines is read_csv's (parse_csv_cells'); the block index would silently ignore it
    latent::CsvOptions skip;
    skip.skip_lines = 1;
    LATENT_CHECK_THROWS_WITH_ALL(latent::CsvSource<float>(dir.file("ragged.csv"), skip), latent::ConfigError, "skip_lines = 0", "found 1");
}

TEST_CASE("fit trains from each file source; a missing cell stops it with DataError", "[data][file_source][train]") {
    TempDir dir;
    latent::Rng rng(6);
    Matrix<float> x(6, 64);
    rng.fill_uniform(x);
    std::vector<float> rows(static_cast<std::size_t>(x.size()));
    std::copy(x.data(), x.data() + x.size(), rows.begin());  // column-major 6 x 64 == row-major 64 x 6
    write(dir.file("x.npy"), npy_file("<f4", "(64, 6)", raw(rows)));
    latent::write_csv(dir.file("x.csv"), x);

    auto train = [&](latent::DataSource<float>* src) {
        latent::Rng r(2);
        latent::DenseAutoencoderOptions ao;
        ao.sizes = {6, 4, 2};
        auto ae = latent::make_dense_autoencoder<float>(ao, r);
        latent::Adam<float> adam(1e-2);
        latent::FitOptions<float> o;
        o.epochs = 3;
        o.batch_size = 8;
        o.shuffle = false;
        o.progress = false;
        if (src)
            latent::fit(ae, adam, *src, o);
        else
            latent::fit(ae, adam, x, o);
        return latent::Vector<float>(ae.params().values());
    };
    latent::NpySource<float> npy(dir.file("x.npy"), {16, 2, true});
    latent::CsvSource<float> csv(dir.file("x.csv"), {}, {16, 2, true});
    const auto want = train(nullptr);
    CHECK(train(&npy) == want);  // unshuffled: the same batches as the matrix, bit for bit
    CHECK(train(&csv) == want);  // write_csv round-trips floats exactly

    write(dir.file("hole.csv"), "1,2,3,4,5,6\n1,2,,4,5,6\n");
    latent::CsvSource<float> hole(dir.file("hole.csv"));
    latent::Rng r(1);
    latent::DenseAutoencoderOptions ao;
    ao.sizes = {6, 2};
    auto ae = latent::make_dense_autoencoder<float>(ao, r);
    latent::Adam<float> adam;
    latent::FitOptions<float> o;
    o.progress = false;
    LATENT_CHECK_THROWS_WITH_ALL(latent::fit(ae, adam, hole, o), latent::DataError, "batch inputs", "expected finite values");
}
