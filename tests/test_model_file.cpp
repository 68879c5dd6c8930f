// Model files against hostile bytes: files corrupted after their size field
// and re-sealed with a valid checksum (what a buggy writer or a hostile
// sender produces) must throw FormatError naming what was expected and
// found, never std::bad_alloc or a crash; layer names with any characters
// round trip; a tied decoder saved alone keeps user-registered layers.
// (test_io.cpp has the round trips and the accidental-corruption cases.)
#include "support.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>

#include <latent/latent.hpp>

using namespace latent;
using latent_test::MatD;
namespace fs = std::filesystem;

namespace {

using latent_test::read_bytes;
using latent_test::TempDir;
using latent_test::write_bytes;

std::string le32(std::uint32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>(v >> (8 * i));
    return s;
}
std::string le64(std::uint64_t v) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>(v >> (8 * i));
    return s;
}
std::string lstr(const std::string& s) { return le32(static_cast<std::uint32_t>(s.size())) + s; }

// Rewrites the size field and the checksum so the file passes both.
std::string reseal(std::string b) {
    b.resize(b.size() - 8);
    b.replace(12, 8, le64(b.size() + 8));
    return b + le64(detail::fnv1a(b.data(), b.size()));
}

// Replaces the first occurrence of `from` (which must exist) by `to`.
std::string replace_once(std::string b, const std::string& from, const std::string& to) {
    const auto at = b.find(from);
    REQUIRE(at != std::string::npos);
    return b.replace(at, from.size(), to);
}

Autoencoder<float> small_ae(std::vector<Index> sizes = {12, 6, 3}) {
    Rng rng(5);
    DenseAutoencoderOptions o;
    o.sizes = std::move(sizes);
    auto ae = make_dense_autoencoder<float>(o, rng);
    return ae;
}

// Loads `bytes` every way a model file is loaded; each must throw FormatError
// with every part in its message.
template <class... Parts>
void check_all_loaders_refuse(const std::string& path, const std::string& bytes, Parts... parts) {
    write_bytes(path, bytes);
    LATENT_CHECK_THROWS_WITH_ALL(load_autoencoder<float>(path), FormatError, parts...);
    LATENT_CHECK_THROWS_WITH_ALL(load_network<float>(path), FormatError, parts...);
    LATENT_CHECK_THROWS_WITH_ALL(network_from_bytes<float>(bytes), FormatError, parts...);
}

}  // namespace

TEST_CASE("re-sealed files with hostile lengths throw FormatError, not bad_alloc", "[io][robust]") {
    TempDir dir;
    auto ae = small_ae();
    const std::string good = dir.file("good.lat");
    save(ae, good);
    const std::string bytes = read_bytes(good);
    const std::string bad = dir.file("bad.lat");
    REQUIRE_NOTHROW(load_autoencoder<float>(good));
    REQUIRE(reseal(bytes) == bytes);  // the helper re-creates a valid file

    // offset of the input shape: magic 8, version 4, size 8, scalar 1, kind str
    const std::size_t shape_at = 8 + 4 + 8 + 1 + 4 + std::string("Autoencoder").size();
    REQUIRE(bytes.substr(shape_at, 8) == le64(12));

    SECTION("a huge input shape") {
        std::string b = bytes;
        b.replace(shape_at, 8, le64(std::uint64_t{1} << 40));
        check_all_loaders_refuse(bad, reseal(b), "input shape");
    }
    SECTION("a negative input shape") {
        std::string b = bytes;
        b.replace(shape_at + 8, 8, le64(static_cast<std::uint64_t>(-5)));
        check_all_loaders_refuse(bad, reseal(b), "input shape", "-5");
    }
    SECTION("a layer with 2^31 - 1 units (a 96 GB weight)") {
        const std::string b = replace_once(bytes, lstr("units") + lstr("6"), lstr("units") + lstr("2147483647"));
        check_all_loaders_refuse(bad, reseal(b), "parameter");
    }
    SECTION("a layer size beyond any integer") {
        const std::string b = replace_once(bytes, lstr("units") + lstr("6"), lstr("units") + lstr("99999999999999999999999"));
        check_all_loaders_refuse(bad, reseal(b), "units", "99999999999999999999999");
    }
    SECTION("a huge parameter table entry") {
        // the first parameter is encoder.0.weight, 6 x 12
        const std::string entry = lstr("encoder.0.weight") + le64(6) + le64(12);
        const std::string b = replace_once(bytes, entry, lstr("encoder.0.weight") + le64(std::uint64_t{1} << 40) + le64(12));
        check_all_loaders_refuse(bad, reseal(b), "encoder.0.weight");
    }
    SECTION("a parameter table whose sizes overflow when multiplied") {
        const std::string entry = lstr("encoder.0.weight") + le64(6) + le64(12);
        const std::string b =
            replace_once(bytes, entry, lstr("encoder.0.weight") + le64(std::uint64_t{1} << 62) + le64(std::uint64_t{1} << 62));
        check_all_loaders_refuse(bad, reseal(b), "encoder.0.weight");
    }
    SECTION("a huge parameter count") {
        const std::string entry = lstr("encoder.0.weight");
        const auto at = bytes.find(entry);
        REQUIRE(at != std::string::npos);
        std::string b = bytes;
        b.replace(at - 4, 4, le32(0xFFFFFFFFu));
        check_all_loaders_refuse(bad, reseal(b), "parameter", "4294967295");
    }
    SECTION("a huge attribute count") {
        const std::string b = replace_once(bytes, lstr("Dense") + le32(3), lstr("Dense") + le32(0x7FFFFFFFu));
        check_all_loaders_refuse(bad, reseal(b), "truncated");
    }
    SECTION("every single-byte corruption of the structure, re-sealed, throws an Error") {
        // Every byte before the parameter values, set to a few hostile values.
        const std::size_t values_at = bytes.size() - 8 - static_cast<std::size_t>(ae.params().size()) * sizeof(float);
        for (std::size_t at = 8; at < values_at; ++at)
            for (unsigned char v : {0x00, 0x7F, 0xFF}) {
                std::string b = bytes;
                if (static_cast<unsigned char>(b[at]) == v) continue;
                b[at] = static_cast<char>(v);
                b = reseal(b);
                try {
                    (void)network_from_bytes<float>(b);  // may load: a byte of a name, or a weight init attribute
                } catch (const Error&) {
                } catch (const std::exception& e) {
                    FAIL("byte " << at << " set to " << int(v) << ": " << e.what() << " is not a latent::Error");
                }
            }
    }
}

TEST_CASE("models load from memory as from a file", "[io]") {
    TempDir dir;
    auto ae = small_ae();
    const std::string path = dir.file("m.lat");
    save(ae, path);
    const std::string bytes = read_bytes(path);
    Matrix<float> x(12, 4);
    Rng rng(3);
    rng.fill_uniform(x);
    CHECK(network_from_bytes<float>(bytes).predict(x) == load_network<float>(path).predict(x));
    CHECK(autoencoder_from_bytes<float>(bytes).reconstruct(x) == ae.reconstruct(x));
    LATENT_CHECK_THROWS_WITH_ALL(network_from_bytes<float>(bytes.substr(0, 30), LayerFactory<float>::builtin(), "my buffer"),
                                 FormatError, "my buffer", "truncated");
}

TEST_CASE("loading converts between float and double when asked, and says how otherwise", "[io]") {
    TempDir dir;
    Rng rng(11);
    DenseAutoencoderOptions o;
    o.sizes = {12, 6, 3};
    auto ae64 = make_dense_autoencoder<double>(o, rng);
    const std::string p64 = dir.file("f64.lat");
    save(ae64, p64);
    LATENT_CHECK_THROWS_WITH_ALL(load_autoencoder<float>(p64), FormatError, "float64", "convert_scalar");
    LATENT_CHECK_THROWS_WITH_ALL(load_network<float>(p64), FormatError, "float64", "convert_scalar");

    LoadOptions lo;
    lo.convert_scalar = true;
    // double -> float: each value rounded to nearest.
    auto ae32 = load_autoencoder<float>(p64, lo);
    CHECK(ae32.params().values() == ae64.params().values().cast<float>());
    CHECK(load_network<float>(p64, lo).params().values() == ae64.params().values().cast<float>());
    MatD x(12, 5);
    rng.fill_uniform(x);
    CHECK(ae32.reconstruct(x.cast<float>()).cast<double>().isApprox(ae64.reconstruct(x), 1e-5));
    // float -> double: exact, and back again bit for bit.
    const std::string p32 = dir.file("f32.lat");
    save(ae32, p32);
    auto back = load_autoencoder<double>(p32, lo);
    CHECK(back.params().values() == ae32.params().values().cast<double>());
    // load_weights into a built model of the other type.
    auto target = make_dense_autoencoder<float>(o, rng);
    CHECK_THROWS_AS(load_weights(target, p64), FormatError);
    load_weights(target, p64, lo);
    CHECK(target.params().values() == ae32.params().values());
    // VAE and sequence models take the same option.
    auto vae = make_dense_vae<double>({12, 8, 3}, rng);
    vae.set_kl_warmup_epochs(1.5);
    const std::string pv = dir.file("vae64.lat");
    save(vae, pv);
    auto vae32 = load_vae<float>(pv, lo);
    CHECK(vae32.params().values() == vae.params().values().cast<float>());
    CHECK(vae32.kl_warmup_epochs() == 1.5);
    SequenceAutoencoderOptions so;
    so.steps = 5;
    so.features = 2;
    so.encoder_units = {4};
    SequenceAutoencoder<double> seq(so, rng);
    const std::string ps = dir.file("seq64.lat");
    save(seq, ps);
    CHECK_THROWS_AS(load_sequence_autoencoder<float>(ps), FormatError);
    CHECK(load_sequence_autoencoder<float>(ps, lo).params().values() == seq.params().values().cast<float>());
    // A corrupt file is still refused when converting.
    std::string bad = read_bytes(p64);
    bad[bad.size() / 2] ^= 0x55;
    write_bytes(dir.file("bad.lat"), bad);
    CHECK_THROWS_AS(load_autoencoder<float>(dir.file("bad.lat"), lo), FormatError);
}

TEST_CASE("layer names with commas and any other characters round trip", "[io]") {
    TempDir dir;
    const std::vector<std::string> names = {"enc,oder", ",", "a\\,b", "x\\", "", "\xe2\x82\xac name=1;{}[]"};
    Sequential<float> s;
    for (std::size_t i = 0; i < names.size(); ++i) s.add(std::make_unique<Dense<float>>(3), names[i]);
    ParamBuffer<float> p;
    Rng rng(1);
    latent::testing::build_standalone(s, Shape{4}, p, rng);
    const std::string path = dir.file("names.lat");
    save(s, path);
    auto net = load_network<float>(path);
    auto& seq = dynamic_cast<Sequential<float>&>(net.root());
    REQUIRE(seq.size() == names.size());
    for (std::size_t i = 0; i < names.size(); ++i) CHECK(seq.name(i) == (names[i].empty() ? std::to_string(i) : names[i]));
    CHECK(net.root().config() == s.config());
    Matrix<float> x(4, 2);
    rng.fill_uniform(x);
    CHECK(net.predict(x) == s.forward(x, Mode::infer));
}

namespace {

// A layer the built-in factory does not know: y = 2x.
class Doubler : public Layer<float> {
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

TEST_CASE("a tied decoder with a user layer saves through the given factory", "[io]") {
    TempDir dir;
    auto enc = std::make_unique<Sequential<float>>();
    enc->add<Dense<float>>(3);
    auto dec = std::make_unique<Sequential<float>>();
    dec->add(std::make_unique<TiedDense<float>>(0)).add(std::make_unique<Doubler>());
    Autoencoder<float> ae(std::move(enc), std::move(dec));
    Rng rng(2);
    ae.build(Shape{5}, rng);
    auto factory = LayerFactory<float>::builtin();
    factory.add_simple("Doubler", [](const LayerConfig&) -> LayerPtr<float> { return std::make_unique<Doubler>(); });
    const std::string path = dir.file("tied.lat");
    LATENT_CHECK_THROWS_WITH_ALL(save(ae.decoder(), path), FormatError, "Doubler");
    CHECK_FALSE(fs::exists(path));
    save(ae.decoder(), path, factory);
    auto net = load_network<float>(path, factory);
    Matrix<float> z(3, 4);
    rng.fill_uniform(z);
    CHECK(net.predict(z).isApprox(ae.decode(z)));
}
