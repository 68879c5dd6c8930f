// Core: Rng (regression literals from tests/golden/rng_golden.py, statistics),
// Shape, LayerConfig, the error hierarchy, initializers, the flat parameter
// buffer, input checks, Network basics.
#include "support.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include <latent/latent.hpp>

using namespace latent;
using latent_test::MatD;
using latent_test::VecD;

namespace golden {
// tests/golden/rng_golden.py: xoshiro256** seeded through splitmix64
const std::uint64_t next42[4] = {0x15780b2e0c2ec716ull, 0x6104d9866d113a7eull, 0xae17533239e499a1ull, 0xecb8ad4703b360a1ull};
const double uniform42[3] = {0.083862971059882163, 0.37898025066266861, 0.68004341102813937};
const double normal7[2] = {-0.15157274547711355, 0.82989708796925699};
}  // namespace golden

TEST_CASE("Rng: known first outputs stay fixed", "[core][rng]") {
    Rng a(42);
    for (auto v : golden::next42) CHECK(a.next() == v);
    Rng b(42);
    for (double v : golden::uniform42) CHECK(b.uniform() == v);
    Rng c(7);
    CHECK(c.normal() == Approx(golden::normal7[0]).epsilon(1e-15));
    CHECK(c.normal() == Approx(golden::normal7[1]).epsilon(1e-15));  // Box-Muller's second value
    CHECK(a.seed() == 42);
}

TEST_CASE("Rng: reseed and copies reproduce; splits and other seeds differ", "[core][rng]") {
    Rng a(5), b(5), c(6);
    std::vector<double> va, vb, vc;
    for (int i = 0; i < 10; ++i) {
        va.push_back(a.normal());
        vb.push_back(b.normal());
        vc.push_back(c.normal());
    }
    CHECK(va == vb);
    CHECK(va != vc);
    a.normal();  // leaves a spare value pending
    a.reseed(5);
    std::vector<double> again;
    for (int i = 0; i < 10; ++i) again.push_back(a.normal());
    CHECK(again == va);  // reseed drops the pending spare
    Rng p(9);
    Rng q = p.split();
    Rng r = p.split();
    CHECK(q.next() != r.next());
}

TEST_CASE("Rng: distributions", "[core][rng]") {
    Rng rng(123);
    const int n = 200000;
    double sum = 0, sum2 = 0, umin = 1, umax = 0, usum = 0;
    for (int i = 0; i < n; ++i) {
        const double z = rng.normal();
        sum += z;
        sum2 += z * z;
        const double u = rng.uniform();
        umin = std::min(umin, u);
        umax = std::max(umax, u);
        usum += u;
    }
    const double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
    CHECK(mean == Approx(0).margin(0.01));  // std of the mean: 0.0022
    CHECK(sd == Approx(1).epsilon(0.01));
    CHECK(umin >= 0.0);
    CHECK(umax < 1.0);
    CHECK(usum / n == Approx(0.5).epsilon(0.01));
    CHECK(rng.normal(10, 0.0) == 10);
    const double x = rng.uniform(-2, -1);
    CHECK(x >= -2);
    CHECK(x < -1);

    // below(n): in range, every value reached, roughly uniform
    std::vector<int> counts(7, 0);
    for (int i = 0; i < 70000; ++i) ++counts[static_cast<std::size_t>(rng.below(7))];
    for (int c : counts) CHECK(c == Approx(10000).epsilon(0.05));
    CHECK_THROWS_AS(rng.below(0), ConfigError);

    // bernoulli
    int hits = 0;
    for (int i = 0; i < 100000; ++i) hits += rng.bernoulli(0.3);
    CHECK(hits / 100000.0 == Approx(0.3).margin(0.01));

    // fills
    MatD m(50, 40);
    rng.fill_normal(m, 2.0, 0.5);
    CHECK(m.mean() == Approx(2.0).epsilon(0.02));
    rng.fill_uniform(m, 3, 4);
    CHECK(m.minCoeff() >= 3);
    CHECK(m.maxCoeff() < 4);
}

TEST_CASE("Rng: permutation and shuffle", "[core][rng]") {
    Rng rng(77);
    const auto p = rng.permutation(100);
    std::vector<Index> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (Index i = 0; i < 100; ++i) CHECK(sorted[static_cast<std::size_t>(i)] == i);
    std::vector<Index> id(100);
    for (Index i = 0; i < 100; ++i) id[static_cast<std::size_t>(i)] = i;
    CHECK(p != id);
    // every position gets every value about equally often (Fisher-Yates, no modulo bias)
    std::vector<int> first(5, 0);
    for (int t = 0; t < 50000; ++t) {
        std::vector<int> v = {0, 1, 2, 3, 4};
        rng.shuffle(v);
        ++first[static_cast<std::size_t>(v[0])];
    }
    for (int c : first) CHECK(c == Approx(10000).epsilon(0.05));
    CHECK(rng.permutation(0).empty());
}

TEST_CASE("Shape", "[core]") {
    const Shape flat{784};
    CHECK(flat.size() == 784);
    CHECK(flat.is_flat());
    CHECK(flat.str() == "(784)");
    const Shape img{3, 28, 32};
    CHECK(img.size() == 3 * 28 * 32);
    CHECK_FALSE(img.is_flat());
    CHECK(img.str() == "(3x28x32)");
    CHECK(img == Shape(3, 28, 32));
    CHECK(img != Shape(3, 32, 28));
    CHECK(Shape{}.empty());
}

TEST_CASE("LayerConfig: attributes, round trips and errors", "[core]") {
    LayerConfig c("Thing");
    c.set("units", Index{128}).set("rate", 0.1).set("flag", true).set("name", "abc").set("shape", Shape{2, 3, 4}).set("n", 7);
    c.set("units", Index{64});  // replaces
    CHECK(c.attrs.size() == 6);
    CHECK(c.get_index("units") == 64);
    CHECK(c.get_double("rate") == 0.1);  // %.17g round trips exactly
    const double third = 1.0 / 3.0;
    c.set("third", third);
    CHECK(c.get_double("third") == third);
    CHECK(c.get_bool("flag"));
    CHECK(c.get_string("name", "") == "abc");
    CHECK(c.get_shape("shape") == Shape(2, 3, 4));
    CHECK(c.get_index("n") == 7);
    CHECK(c.get_double("missing", 2.5) == 2.5);
    CHECK(c.get_index("missing", 3) == 3);
    CHECK_FALSE(c.get_bool("missing"));
    LATENT_CHECK_THROWS_WITH_ALL(c.get("missing"), FormatError, "Thing", "missing");
    LATENT_CHECK_THROWS_WITH_ALL(c.get_double("name"), FormatError, "number", "abc");
    LATENT_CHECK_THROWS_WITH_ALL(c.get_index("rate"), FormatError, "integer", "0.1");
    LATENT_CHECK_THROWS_WITH_ALL(c.get_shape("name"), FormatError, "shape", "abc");

    LayerConfig child("Child");
    c.children.push_back(child);
    LayerConfig d = c;
    CHECK(d == c);
    d.children[0].set("x", 1);
    CHECK(d != c);
    CHECK(latent_test::contains(c.str(), "Thing{units=64"));
    CHECK(latent_test::contains(c.str(), "[Child]"));
}

TEST_CASE("every error derives from latent::Error", "[core]") {
    auto is_error = [](const std::exception& e) { return dynamic_cast<const Error*>(&e) != nullptr; };
    CHECK(is_error(ShapeError("s")));
    CHECK(is_error(DataError("d")));
    CHECK(is_error(FormatError("f")));
    CHECK(is_error(ConfigError("c")));
    CHECK(is_error(NumericError("n")));
    CHECK(is_error(FeatureError("x")));
    const ShapeError se("s");
    CHECK(dynamic_cast<const std::runtime_error*>(static_cast<const std::exception*>(&se)) != nullptr);
    try {
        detail::require<DataError>(false, "expected ", 3, ", found ", 4.5);
        FAIL("require did not throw");
    } catch (const DataError& e) {
        CHECK(std::string(e.what()) == "expected 3, found 4.5");
    }
}

TEST_CASE("input checks name what was expected and what was found", "[core]") {
    MatD m = MatD::Zero(3, 4);
    LATENT_CHECK_THROWS_WITH_ALL(detail::check_dims(m, 3, 5, "thing"), ShapeError, "thing", "3x5", "3x4");
    LATENT_CHECK_THROWS_WITH_ALL(detail::check_dims(m, 2, -1, "thing"), ShapeError, "2xbatch", "3x4");
    detail::check_dims(m, 3, -1, "ok");
    m(1, 2) = std::numeric_limits<double>::infinity();
    LATENT_CHECK_THROWS_WITH_ALL(detail::check_finite(m, "data"), DataError, "data", "inf", "row 1", "column 2");
}

TEST_CASE("initializers: ranges and spreads", "[core]") {
    Rng rng(3);
    MatD w(200, 300);
    SECTION("Glorot uniform") {
        Init::glorot_uniform(300, 200).apply(w, rng);
        const double r = std::sqrt(6.0 / 500);
        CHECK(w.maxCoeff() <= r);
        CHECK(w.minCoeff() >= -r);
        CHECK(w.maxCoeff() > 0.99 * r);
        CHECK(std::sqrt(w.squaredNorm() / w.size()) == Approx(r / std::sqrt(3.0)).epsilon(0.01));
    }
    SECTION("Glorot normal, He normal, He uniform") {
        Init::glorot_normal(300, 200).apply(w, rng);
        CHECK(std::sqrt(w.squaredNorm() / w.size()) == Approx(std::sqrt(2.0 / 500)).epsilon(0.01));
        Init::he_normal(300).apply(w, rng);
        CHECK(std::sqrt(w.squaredNorm() / w.size()) == Approx(std::sqrt(2.0 / 300)).epsilon(0.01));
        Init::he_uniform(300).apply(w, rng);
        CHECK(w.cwiseAbs().maxCoeff() <= std::sqrt(6.0 / 300));
        CHECK(std::abs(w.mean()) < 0.002);
    }
    SECTION("constants") {
        Init::zeros().apply(w, rng);
        CHECK(w.isZero(0));
        Init::ones().apply(w, rng);
        CHECK(w.isOnes(0));
        Init::constant(0.25).apply(w, rng);
        CHECK((w.array() == 0.25).all());
        Init::uniform(0.1).apply(w, rng);
        CHECK(w.cwiseAbs().maxCoeff() <= 0.1);
        Init::normal(0.5).apply(w, rng);
        CHECK(std::sqrt(w.squaredNorm() / w.size()) == Approx(0.5).epsilon(0.01));
    }
}

TEST_CASE("ParamBuffer: one flat buffer, slots back to back", "[core]") {
    ParamSlot<double> a{"a", 2, 3, Init::constant(1), true};
    ParamSlot<double> b{"b", 4, 1, Init::constant(2), false};
    ParamSlot<double> c{"c", 1, 2, Init::constant(3), true, false};
    ParamBuffer<double> p;
    p.bind({{"x.a", &a}, {"x.b", &b}, {"c", &c}});
    REQUIRE(p.size() == 12);
    CHECK(a.value == p.values().data());
    CHECK(b.value == p.values().data() + 6);
    CHECK(c.grad == p.grads().data() + 10);
    Rng rng(1);
    p.initialize(rng);
    VecD expect(12);
    expect << 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3;
    CHECK(p.values() == expect);
    VecD mask(12);
    mask << 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1;
    CHECK(p.decay_mask() == mask);
    a.g().setOnes();
    CHECK(p.grads().head(6).isOnes(0));
    p.zero_grad();
    CHECK(p.grads().isZero(0));
    auto views = p.views();
    REQUIRE(views.size() == 3);
    CHECK(views[0].name == "x.a");
    CHECK(views[0].value.rows() == 2);
    CHECK(views[0].value.cols() == 3);
    CHECK_FALSE(views[1].decay);
    // writing through a view writes the buffer
    views[1].value(3, 0) = 9;
    CHECK(p.values()(9) == 9);
    // moving the buffer keeps the slots valid (the storage moves with it)
    ParamBuffer<double> moved = std::move(p);
    CHECK(a.value == moved.values().data());
}

TEST_CASE("a model's parameters are one flat buffer with PyTorch-style names", "[core][models]") {
    Rng rng(2);
    DenseAutoencoderOptions o;
    o.sizes = {6, 4, 2};
    auto ae = make_dense_autoencoder<double>(o, rng);
    const auto views = ae.parameters();
    std::vector<std::string> names;
    Index total = 0;
    const double* expect = ae.params().values().data();
    for (const auto& v : views) {
        names.push_back(v.name);
        CHECK(v.value.data() == expect);  // contiguous, in order
        expect += v.value.size();
        total += v.value.size();
    }
    CHECK(total == ae.params().size());
    const std::vector<std::string> want = {"encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias",
                                           "decoder.0.weight", "decoder.0.bias", "decoder.2.weight", "decoder.2.bias"};
    CHECK(names == want);
    // the model survives a move (the layers keep pointing into the moved buffer)
    Autoencoder<double> moved = std::move(ae);
    const MatD x = MatD::Random(6, 3);
    moved.params().values().setZero();
    CHECK(moved.reconstruct(x).isApprox(MatD::Constant(6, 3, 0.5)));  // sigmoid(0)
}

TEST_CASE("layers and networks used before they are built say so", "[core]") {
    Dense<double> d(3);
    const MatD x = MatD::Zero(2, 2);
    CHECK_THROWS_AS(d.forward(x, Mode::infer), Error);
    CHECK_THROWS_AS(d.parameters(), Error);
    Network<double> empty;
    CHECK_THROWS_AS(empty.forward(x, Mode::infer), Error);
    Dropout<double> drop(0.5);
    drop.build(Shape{2});
    CHECK_THROWS_AS(drop.forward(x, Mode::train), Error);  // no generator attached
}

TEST_CASE("threads and version", "[core]") {
    CHECK_THROWS_AS(set_num_threads(0), ConfigError);
    const int before = num_threads();
    set_num_threads(1);
    CHECK(num_threads() == 1);
    set_num_threads(before);
    CHECK(version_major == LATENT_VERSION_MAJOR);
    CHECK(version_minor == LATENT_VERSION_MINOR);
}
