// Model files: round trips (float, double, tied, encoder alone), every
// bad-file case with its FormatError, failed loads and saves leaving things
// as they were, and the v1 fixture still loading with the same outputs.
//
// Regenerate the fixture (only when the format version changes, as a new
// file model_v<N>.lat; never overwrite an old one):
//   test_io "[.generate]" -s
#include "support.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <latent/latent.hpp>

using namespace latent;
using latent_test::MatD;
namespace fs = std::filesystem;

namespace {

using latent_test::read_bytes;
using latent_test::TempDir;
using latent_test::write_bytes;

template <class S>
Autoencoder<S> small_ae(std::uint64_t seed, bool tied = false, std::vector<Index> sizes = {12, 6, 3}) {
    Rng rng(seed);
    DenseAutoencoderOptions o;
    o.sizes = std::move(sizes);
    o.tied = tied;
    o.dropout = 0.1;
    o.input_noise = 0.05;
    auto ae = make_dense_autoencoder<S>(o, rng);
    rng.fill_uniform(ae.params().values(), -1, 1);  // non-zero biases too
    return ae;
}

template <class S>
Matrix<S> inputs(Index rows, Index cols) {
    Rng rng(99);
    Matrix<S> x(rows, cols);
    rng.fill_uniform(x);
    return x;
}

// A layer latent does not know: y = 2x.
class Doubler : public Layer<double> {
public:
    std::string type() const override { return "Doubler"; }
    Shape compute_output_shape(Shape in) const override { return in; }
    const Mat& forward(const Mat& x, Mode) override {
        y_ = 2 * x;
        return y_;
    }
    const Mat& backward(const Mat& dy) override {
        dx_ = 2 * dy;
        return dx_;
    }
    LayerConfig config() const override { return LayerConfig("Doubler"); }

private:
    Mat y_, dx_;
};

}  // namespace

TEMPLATE_TEST_CASE("save/load round trip gives identical outputs", "[io]", float, double) {
    using S = TestType;
    TempDir dir;
    const Matrix<S> x = inputs<S>(12, 9);
    for (bool tied : {false, true}) {
        DYNAMIC_SECTION((tied ? "tied" : "untied")) {
            auto ae = small_ae<S>(1, tied);
            const std::string path = dir.file("ae.lat");
            save(ae, path);
            auto back = load_autoencoder<S>(path);
            CHECK(back.input_shape() == ae.input_shape());
            CHECK(back.code_shape() == ae.code_shape());
            CHECK(back.params().values() == ae.params().values());
            CHECK(back.reconstruct(x) == ae.reconstruct(x));
            CHECK(back.encode(x) == ae.encode(x));
            CHECK(back.network().root().config() == ae.network().root().config());
            // the tie survives: training the reloaded model moves encoder and decoder together
            const auto names = back.parameters();
            CHECK(names.size() == ae.parameters().size());

            // the whole model as a Network
            auto net = load_network<S>(path);
            CHECK(net.predict(x) == ae.reconstruct(x));

            // load_weights into a freshly built model of the same architecture
            auto other = small_ae<S>(2, tied);
            REQUIRE(other.params().values() != ae.params().values());
            load_weights(other, path);
            CHECK(other.reconstruct(x) == ae.reconstruct(x));
        }
    }
}

TEMPLATE_TEST_CASE("the encoder saved alone loads as a feature extractor", "[io]", float, double) {
    using S = TestType;
    TempDir dir;
    auto ae = small_ae<S>(3);
    const std::string path = dir.file("encoder.lat");
    save(ae.encoder(), path);
    auto enc = load_network<S>(path);
    CHECK(enc.input_shape() == Shape{12});
    CHECK(enc.output_shape() == Shape{3});
    const Matrix<S> x = inputs<S>(12, 300);  // more than one predict batch
    // the same chunks on both sides: each product shape class has its own
    // measured engine (core/gemm.hpp), so 128 + 128 + 44 columns need not
    // round like 300 at once
    CHECK(enc.predict(x, 128) == ae.encode(x, 128));
    // the decoder too (untied)
    save(ae.decoder(), dir.file("decoder.lat"));
    auto dec = load_network<S>(dir.file("decoder.lat"));
    const Matrix<S> z = ae.encode(x);
    CHECK(dec.predict(z) == ae.decode(z));
    // an encoder file is not an autoencoder
    LATENT_CHECK_THROWS_WITH_ALL(load_autoencoder<S>(path), FormatError, "expected an Autoencoder", "load_network");
}

TEMPLATE_TEST_CASE("a tied decoder saved alone is stored untied and loads on its own", "[io]", float, double) {
    using S = TestType;
    TempDir dir;
    auto ae = small_ae<S>(4, true, {12, 8, 5, 3});
    const std::string path = dir.file("tied_decoder.lat");
    save(ae.decoder(), path);
    auto dec = load_network<S>(path);
    CHECK(dec.input_shape() == Shape{3});
    CHECK(dec.output_shape() == Shape{12});
    CHECK(dec.root().config().str().find("TiedDense") == std::string::npos);
    const Matrix<S> z = ae.encode(inputs<S>(12, 40));
    CHECK(dec.predict(z).isApprox(ae.decode(z), S(1e-6)));
    // the saved weights are the encoder's, transposed, not a fresh init
    auto again = load_network<S>(path);
    CHECK(again.params().values() == dec.params().values());
}

TEST_CASE("every regularizer layer round trips", "[io]") {
    TempDir dir;
    Rng rng(4);
    const MatD x = inputs<double>(10, 5);
    DenseAutoencoderOptions o;
    o.sizes = {10, 4};
    o.code = Act::sigmoid;
    o.hidden = Act::gelu;
    o.output = Act::softplus;
    o.l1_activity = 0.01;
    o.kl_rho = 0.05;
    o.kl_beta = 0.2;
    auto sparse = make_dense_autoencoder<double>(o, rng);
    save(sparse, dir.file("sparse.lat"));
    auto s2 = load_autoencoder<double>(dir.file("sparse.lat"));
    CHECK(s2.reconstruct(x) == sparse.reconstruct(x));
    CHECK(s2.network().root().config() == sparse.network().root().config());

    o.l1_activity = o.kl_beta = 0;
    o.contractive = 0.3;
    auto cae = make_dense_autoencoder<double>(o, rng);
    save(cae, dir.file("cae.lat"));
    auto c2 = load_autoencoder<double>(dir.file("cae.lat"));
    CHECK(c2.reconstruct(x) == cae.reconstruct(x));
    // the penalty settings came back too: same training loss
    CHECK(c2.train_batch(x, x, nullptr) == cae.train_batch(x, x, nullptr));

    o.contractive = 0;
    o.hidden = Act::leaky_relu;
    o.sizes = {10, 6, 4};
    auto leaky = make_dense_autoencoder<double>(o, rng);
    save(leaky, dir.file("leaky.lat"));
    CHECK(load_autoencoder<double>(dir.file("leaky.lat")).reconstruct(x) == leaky.reconstruct(x));
}

TEST_CASE("bad model files throw FormatError saying which", "[io]") {
    TempDir dir;
    auto ae = small_ae<float>(5);
    const std::string good = dir.file("good.lat");
    save(ae, good);
    const std::string bytes = read_bytes(good);
    REQUIRE(bytes.size() > 100);
    const std::string bad = dir.file("bad.lat");

    SECTION("missing file") {
        LATENT_CHECK_THROWS_WITH_ALL(load_autoencoder<float>(dir.file("nope.lat")), FormatError, "cannot open", "nope.lat");
    }
    SECTION("empty file") {
        write_bytes(bad, "");
        LATENT_CHECK_THROWS_WITH_ALL(load_autoencoder<float>(bad), FormatError, "magic", "0 bytes");
    }
    SECTION("wrong magic") {
        std::string b = bytes;
        b.replace(0, 8, "NOTMODEL");
        write_bytes(bad, b);
        LATENT_CHECK_THROWS_WITH_ALL(load_autoencoder<float>(bad), FormatError, "not a latent model file", "NOTMODEL");
    }
    SECTION("truncated, anywhere") {
        for (std::size_t keep : {std::size_t(10), std::size_t(20), bytes.size() / 2, bytes.size() - 1}) {
            write_bytes(bad, bytes.substr(0, keep));
            LATENT_CHECK_THROWS_WITH_ALL(load_autoencoder<float>(bad), FormatError, "truncated");
        }
    }
    SECTION("trailing bytes") {
        write_bytes(bad, bytes + "xx");
        LATENT_CHECK_THROWS_WITH_ALL(load_autoencoder<float>(bad), FormatError, "trailing");
    }
    SECTION("a corrupted byte: checksum") {
        for (std::size_t at : {std::size_t(40), bytes.size() / 2, bytes.size() - 12, bytes.size() - 3}) {
            std::string b = bytes;
            b[at] = static_cast<char>(b[at] ^ 0x20);
            write_bytes(bad, b);
            LATENT_CHECK_THROWS_WITH_ALL(load_autoencoder<float>(bad), FormatError, "corrupted", "checksum");
        }
    }
    SECTION("a newer format version") {
        std::string b = bytes;
        b[8] = 2;
        write_bytes(bad, b);
        LATENT_CHECK_THROWS_WITH_ALL(load_autoencoder<float>(bad), FormatError, "format version 1", "found 2");
    }
    SECTION("another scalar type") {
        LATENT_CHECK_THROWS_WITH_ALL(load_autoencoder<double>(good), FormatError, "float32", "float64");
        auto d = small_ae<double>(5);
        LATENT_CHECK_THROWS_WITH_ALL(load_weights(d, good), FormatError, "float32", "float64");
        LATENT_CHECK_THROWS_WITH_ALL(load_network<double>(good), FormatError, "float32", "float64");
    }
    SECTION("another architecture") {
        auto wider = small_ae<float>(6, false, {12, 7, 3});
        LATENT_CHECK_THROWS_WITH_ALL(load_weights(wider, good), FormatError, "architecture mismatch");
        auto tied = small_ae<float>(6, true);
        LATENT_CHECK_THROWS_WITH_ALL(load_weights(tied, good), FormatError, "architecture mismatch");
        auto other_input = small_ae<float>(6, false, {13, 6, 3});
        CHECK_THROWS_AS(load_weights(other_input, good), FormatError);
    }
    SECTION("an unknown layer type") {
        Sequential<double> s;
        s.add<Dense<double>>(3).add(std::make_unique<Doubler>());
        ParamBuffer<double> p;
        Rng rng(7);
        latent::testing::build_standalone(s, Shape{4}, p, rng);
        save(s, bad);
        LATENT_CHECK_THROWS_WITH_ALL(load_network<double>(bad), FormatError, "unknown layer type 'Doubler'", "LayerFactory::add");
        // a factory that knows it loads it
        auto f = LayerFactory<double>::builtin();
        f.add_simple("Doubler", [](const LayerConfig&) -> LayerPtr<double> { return std::make_unique<Doubler>(); });
        auto net = load_network<double>(bad, f);
        const MatD x = inputs<double>(4, 3);
        CHECK(net.predict(x) == s.forward(x, Mode::infer));
    }
}

TEST_CASE("a failed load leaves the model untouched", "[io]") {
    TempDir dir;
    auto ae = small_ae<float>(8);
    const auto before = ae.params().values();
    const Matrix<float> x = inputs<float>(12, 4);
    const Matrix<float> out = ae.reconstruct(x);

    auto donor = small_ae<float>(9);
    const std::string good = dir.file("donor.lat");
    save(donor, good);
    std::string b = read_bytes(good);
    b[b.size() / 2] = static_cast<char>(b[b.size() / 2] ^ 1);
    write_bytes(dir.file("corrupt.lat"), b);
    write_bytes(dir.file("short.lat"), read_bytes(good).substr(0, 50));
    auto wider = small_ae<float>(10, false, {12, 8, 3});
    save(wider, dir.file("wider.lat"));

    for (const char* name : {"corrupt.lat", "short.lat", "wider.lat", "missing.lat"}) {
        INFO(name);
        CHECK_THROWS_AS(load_weights(ae, dir.file(name)), FormatError);
        CHECK(ae.params().values() == before);
        CHECK(ae.reconstruct(x) == out);
    }
    load_weights(ae, good);
    CHECK(ae.params().values() == donor.params().values());
}

TEST_CASE("save is atomic: a failed save throws and leaves no file behind", "[io]") {
    TempDir dir;
    auto ae = small_ae<float>(11);
    SECTION("an unwritable directory (even for root)") {
        if (fs::is_directory("/proc/self")) {
            CHECK_THROWS_AS(save(ae, "/proc/self/latent_test.lat"), FormatError);
            CHECK_FALSE(fs::exists("/proc/self/latent_test.lat"));
        }
    }
    SECTION("missing directory") {
        const std::string path = dir.file("no/such/dir/ae.lat");
        LATENT_CHECK_THROWS_WITH_ALL(save(ae, path), FormatError, "cannot open");
        CHECK_FALSE(fs::exists(dir.path / "no"));
    }
    SECTION("a path that is a directory") {
        fs::create_directories(dir.path / "taken");
        CHECK_THROWS_AS(save(ae, dir.file("taken")), FormatError);
        CHECK(fs::is_directory(dir.path / "taken"));
        CHECK(fs::is_empty(dir.path / "taken"));
    }
    // whatever happened, nothing but what we made is left in the directory (no temp files)
    for (const auto& e : fs::directory_iterator(dir.path)) CHECK(e.path().filename() == "taken");

    SECTION("a successful save replaces the file and leaves no temp file") {
        const std::string path = dir.file("ae.lat");
        write_bytes(path, "old contents");
        save(ae, path);
        save(ae, path);
        std::size_t n = 0;
        for (const auto& e : fs::directory_iterator(dir.path)) {
            ++n;
            CHECK(e.path().filename() == "ae.lat");
        }
        CHECK(n == 1);
        CHECK(load_autoencoder<float>(path).params().values() == ae.params().values());
    }
    SECTION("an unbuilt model is refused") {
        auto enc = std::make_unique<Sequential<float>>();
        enc->add<Dense<float>>(3);
        auto dec = std::make_unique<Sequential<float>>();
        dec->add<Dense<float>>(5);
        Autoencoder<float> unbuilt(std::move(enc), std::move(dec));
        CHECK_THROWS_AS(save(unbuilt, dir.file("x.lat")), Error);
        CHECK_FALSE(fs::exists(dir.path / "x.lat"));
    }
}

namespace fixture {

const char* const path_v1 = LATENT_SOURCE_DIR "/tests/fixtures/model_v1.lat";

// The fixture model: a small dense AE in float, seed 2024.
Autoencoder<float> make_model() {
    Rng rng(2024);
    DenseAutoencoderOptions o;
    o.sizes = {8, 5, 2};
    o.hidden = Act::relu;
    o.code = Act::tanh;
    o.output = Act::sigmoid;
    o.dropout = 0.1;
    auto ae = make_dense_autoencoder<float>(o, rng);
    rng.fill_uniform(ae.params().values(), -1, 1);
    return ae;
}

// The fixed input the expected outputs were computed for.
Matrix<float> input() {
    Matrix<float> x(8, 3);
    for (Index j = 0; j < 3; ++j)
        for (Index i = 0; i < 8; ++i) x(i, j) = static_cast<float>((i * 7 + j * 3) % 11) / 10.0f;
    return x;
}

// Written by the [.generate] case below, when the fixture was made.
const Index n_params = 120;
const float first_params[4] = {-0x1.edbb12p-3f, -0x1.b98898p-1f, -0x1.64cc46p-1f, 0x1.3d055cp-2f};
const float expected[8][3] = {{0.274695337f, 0.286130399f, 0.277400494f}, {0.554856181f, 0.570919394f, 0.558704376f},
                              {0.697861493f, 0.680878937f, 0.693852067f}, {0.637771428f, 0.622407973f, 0.634126246f},
                              {0.582388341f, 0.562371612f, 0.577629626f}, {0.420837224f, 0.413163781f, 0.419000924f},
                              {0.54535681f, 0.55810082f, 0.548406601f},   {0.483273685f, 0.478062063f, 0.482028574f}};

}  // namespace fixture

TEST_CASE("generate the model file fixture (run by hand)", "[.generate]") {
    auto ae = fixture::make_model();
    save(ae, fixture::path_v1);
    const Matrix<float> y = ae.reconstruct(fixture::input());
    std::printf("const Index n_params = %ld;\n", static_cast<long>(ae.params().size()));
    std::printf("const float first_params[4] = {");
    for (int i = 0; i < 4; ++i) std::printf("%s%af", i ? ", " : "", static_cast<double>(ae.params().values()(i)));
    std::printf("};\nconst float expected[8][3] = {");
    for (Index i = 0; i < 8; ++i) {
        std::printf("%s{", i ? ", " : "");
        for (Index j = 0; j < 3; ++j) std::printf("%s%.9gf", j ? ", " : "", static_cast<double>(y(i, j)));
        std::printf("}");
    }
    std::printf("};\n");
}

TEST_CASE("the v1 fixture still loads and gives the same outputs", "[io]") {
    REQUIRE(fs::exists(fixture::path_v1));
    auto ae = load_autoencoder<float>(fixture::path_v1);
    REQUIRE(ae.params().size() == fixture::n_params);
    for (int i = 0; i < 4; ++i) CHECK(ae.params().values()(i) == fixture::first_params[i]);
    const Matrix<float> y = ae.reconstruct(fixture::input());
    for (Index i = 0; i < 8; ++i)
        for (Index j = 0; j < 3; ++j) CHECK(y(i, j) == Approx(fixture::expected[i][j]).epsilon(1e-5));
    // and it keeps working as a model: encode, save again, same bytes back
    CHECK(ae.encode(fixture::input()).allFinite());
}
