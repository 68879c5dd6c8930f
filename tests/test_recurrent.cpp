// Recurrent layers (LSTM and GRU through the one driver, layers/recurrent.hpp),
// the Keras LSTM autoencoder stack and the sequence losses: gradient checks through
// time in double, masks, initial/final states, PyTorch golden values, determinism.
#include "catch.hpp"

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>

#include <latent/latent.hpp>
#include <latent/testing/gradient_check.hpp>

using latent::Index;
using latent::Mode;
using latent::RnnOutput;
using latent::Shape;
using Mat = latent::Matrix<double>;
using Vec = latent::Vector<double>;
using State = std::vector<Mat>;

namespace {

constexpr double kBound = 1e-6;

std::unique_ptr<latent::Recurrent<double>> make_rnn(const std::string& kind, Index units, RnnOutput out) {
    if (kind == "LSTM") return std::make_unique<latent::LSTM<double>>(units, out);
    return std::make_unique<latent::GRU<double>>(units, out);
}

Vec stack(const State& s) {
    Index n = 0;
    for (const auto& m : s) n += m.size();
    Vec v(n);
    Index o = 0;
    for (const auto& m : s) {
        v.segment(o, m.size()) = Eigen::Map<const Vec>(m.data(), m.size());
        o += m.size();
    }
    return v;
}
State unstack(const Vec& v, const State& like) {
    State s = like;
    Index o = 0;
    for (auto& m : s) {
        m = Eigen::Map<const Mat>(v.data() + o, m.rows(), m.cols());
        o += m.size();
    }
    return s;
}

// Checks d/dx, d/dparams and d/d(initial state) of
//   L = sum(Ry .* y) + sum_k sum(Rf_k .* final_k)
// through the packed interface, for one layer configuration.
latent::testing::GradientReport check_recurrent(const std::string& kind, RnnOutput out, Index F, Index H, Index T, Index N,
                                                const Mat* mask, bool use_initial, std::uint64_t seed = 7,
                                                double x_scale = 1.0) {
    latent::Rng rng(seed);
    auto rnn = make_rnn(kind, H, out);
    latent::ParamBuffer<double> params;
    latent::testing::build_standalone(*rnn, latent::sequence_shape(T, F), params, rng);
    rnn->set_input_grad(true);

    Mat x(F, T * N);
    rng.fill_normal(x, 0.0, x_scale);
    State init(static_cast<std::size_t>(rnn->state_count()), Mat(H, N));
    for (auto& m : init) rng.fill_normal(m, 0.0, 0.5);
    Mat ry(H, rnn->output_steps(T) * N);
    rng.fill_normal(ry);
    State rf = init;
    for (auto& m : rf) rng.fill_normal(m);

    auto loss = [&](const Mat& xin, const State& s0) {
        const Mat& y = rnn->forward_packed(xin, T, Mode::train, mask, use_initial ? &s0 : nullptr);
        double l = (ry.array() * y.array()).sum();
        for (std::size_t k = 0; k < rf.size(); ++k) l += (rf[k].array() * rnn->final_state()[k].array()).sum();
        return l;
    };

    params.zero_grad();
    loss(x, init);
    const Mat dx = rnn->backward_packed(ry, &rf);
    const Vec dparams = params.grads();
    const Vec dinit = stack(rnn->initial_state_grad());

    latent::testing::GradientReport rep;
    auto merge = [&](const latent::testing::GradientReport& r) {
        rep.checked += r.checked;
        if (r.max_error >= rep.max_error) {
            rep.max_error = r.max_error;
            rep.worst = r.worst;
            rep.analytic = r.analytic;
            rep.numeric = r.numeric;
        }
    };
    const Vec x0 = Eigen::Map<const Vec>(x.data(), x.size());
    merge(latent::testing::check_gradient(
        [&](const Vec& v) { return loss(Eigen::Map<const Mat>(v.data(), F, T * N), init); }, x0,
        Eigen::Map<const Vec>(dx.data(), dx.size()), 1e-4, "input"));
    const Vec p0 = params.values();
    merge(latent::testing::check_gradient(
        [&](const Vec& v) {
            params.values() = v;
            const double l = loss(x, init);
            params.values() = p0;
            return l;
        },
        p0, dparams, 1e-4, "param"));
    if (use_initial)
        merge(latent::testing::check_gradient([&](const Vec& v) { return loss(x, unstack(v, init)); }, stack(init), dinit, 1e-4,
                                              "initial"));
    return rep;
}

Mat ragged_mask(Index T, Index N) {
    // sample 0 full, 1 shorter, 2 length 1, 3 with a hole in the middle
    Mat m = Mat::Ones(T, N);
    if (N > 1) m.col(1).tail(2).setZero();
    if (N > 2) m.col(2).tail(T - 1).setZero();
    if (N > 3) m(1, 3) = 0;
    return m;
}

double golden_w(Index i, Index j, double c) { return 0.3 * std::sin(1.3 * static_cast<double>(i) + 0.7 * static_cast<double>(j) + c); }

}  // namespace

TEST_CASE("LSTM and GRU gradients through time: inputs, parameters, initial states", "[recurrent][gradcheck]") {
    const Mat mask = ragged_mask(5, 4);
    for (std::string kind : {"LSTM", "GRU"})
        for (RnnOutput out : {RnnOutput::last, RnnOutput::sequence})
            for (bool masked : {false, true}) {
                const auto rep = check_recurrent(kind, out, 3, 4, 5, 4, masked ? &mask : nullptr, true);
                INFO(kind << " output " << latent::rnn_output_name(out) << (masked ? " masked" : "") << ": " << rep.str());
                CHECK(rep.ok(kBound));
                CHECK(rep.checked > 100);
            }
}

TEST_CASE("recurrent gradients without an initial state and with more than 100 input features", "[recurrent][gradcheck]") {
    for (std::string kind : {"LSTM", "GRU"}) {
        // inputs scaled so 120 of them do not saturate the gates (pre-activations ~ N(0, 0.3^2))
        const auto rep = check_recurrent(kind, RnnOutput::sequence, 120, 5, 3, 2, nullptr, false, 11, 0.1);
        INFO(kind << ": " << rep.str());
        CHECK(rep.ok(kBound));
    }
}

TEST_CASE("recurrent layers pass the generic layer check through the flat interface", "[recurrent][gradcheck]") {
    for (std::string kind : {"LSTM", "GRU"})
        for (RnnOutput out : {RnnOutput::last, RnnOutput::sequence}) {
            latent::Rng rng(3);
            auto rnn = make_rnn(kind, 4, out);
            latent::ParamBuffer<double> params;
            latent::testing::build_standalone(*rnn, latent::sequence_shape(6, 2), params, rng);
            Mat x(12, 3);
            rng.fill_normal(x);
            const auto rep = latent::testing::check_layer(*rnn, params, x, rng);
            INFO(kind << " " << latent::rnn_output_name(out) << ": " << rep.str());
            CHECK(rep.ok(kBound));
        }
}

TEST_CASE("LSTM and GRU match PyTorch (golden values from tests/golden/recurrent_golden.py)", "[recurrent]") {
    const Index T = 3, F = 2, H = 3, N = 2;
    // y[t][n][h] and LSTM's final c[n][h], printed by the script.
    const double lstm_y[] = {0.180577959959, -0.012906206617, -0.319635684215, 0.150916989387, -0.024540573128, -0.345203555165,
                             0.182854647862, 0.050625405536,  -0.420091134524, 0.170025085006, 0.057019120425,  -0.391167879321,
                             0.179693336556, 0.087510663971,  -0.405189042506, 0.168050085165, 0.086921831592,  -0.345289976862};
    const double lstm_c[] = {0.525365726212, 0.150402260985, -0.701302389800, 0.461654136668, 0.156632707244, -0.602965755830};
    const double gru_y[] = {0.525722933266, -0.010331231865, -0.193145496588, 0.508922185128, 0.019231784913, -0.302390996577,
                            0.636604863598, 0.053517803348,  -0.377003169697, 0.575001813556, 0.092603950413, -0.418208285881,
                            0.585767282706, 0.123116316737,  -0.441739635201, 0.493639375132, 0.145144978293, -0.411110685458};
    for (std::string kind : {"LSTM", "GRU"}) {
        latent::Rng rng(0);
        auto rnn = make_rnn(kind, H, RnnOutput::sequence);
        latent::ParamBuffer<double> params;
        latent::testing::build_standalone(*rnn, latent::sequence_shape(T, F), params, rng);
        auto fill = [](latent::MatrixMap<double> m, double c) {
            for (Index i = 0; i < m.rows(); ++i)
                for (Index j = 0; j < m.cols(); ++j) m(i, j) = golden_w(i, j, c);
        };
        fill(rnn->weight_ih(), 0.1);
        fill(rnn->weight_hh(), 0.2);
        fill(rnn->bias_ih(), 0.3);
        fill(rnn->bias_hh(), 0.4);
        latent::Sequence<double> x(T, Mat(F, N));
        for (Index t = 0; t < T; ++t)
            for (Index n = 0; n < N; ++n)
                for (Index f = 0; f < F; ++f)
                    x[static_cast<std::size_t>(t)](f, n) = std::cos(0.5 * static_cast<double>(t) + 0.9 * static_cast<double>(f) + 0.3 * static_cast<double>(n));
        State init(static_cast<std::size_t>(rnn->state_count()), Mat(H, N));
        for (Index n = 0; n < N; ++n)
            for (Index h = 0; h < H; ++h) {
                init[0](h, n) = 0.1 * std::sin(static_cast<double>(h) + 2.0 * static_cast<double>(n));
                if (kind == "LSTM") init[1](h, n) = 0.2 * std::cos(static_cast<double>(h) + 1.5 * static_cast<double>(n));
            }
        const auto& y = rnn->forward_seq(x, Mode::infer, nullptr, &init);
        const double* expect = kind == "LSTM" ? lstm_y : gru_y;
        double worst = 0;
        for (Index t = 0; t < T; ++t)
            for (Index n = 0; n < N; ++n)
                for (Index h = 0; h < H; ++h)
                    worst = std::max(worst, std::abs(y[static_cast<std::size_t>(t)](h, n) - expect[(t * N + n) * H + h]));
        if (kind == "LSTM")
            for (Index n = 0; n < N; ++n)
                for (Index h = 0; h < H; ++h) worst = std::max(worst, std::abs(rnn->final_state()[1](h, n) - lstm_c[n * H + h]));
        INFO(kind << " worst deviation from PyTorch " << worst);
        CHECK(worst < 1e-11);
    }
}

TEST_CASE("a masked sequence ends in the state of its true last step, and padding gets no gradient", "[recurrent]") {
    const Index F = 3, H = 4, T = 6, N = 3;
    const std::vector<Index> lengths = {6, 4, 2};
    const Mat mask = latent::mask_from_lengths<double>(lengths, T);
    for (std::string kind : {"LSTM", "GRU"}) {
        latent::Rng rng(5);
        auto rnn = make_rnn(kind, H, RnnOutput::sequence);
        latent::ParamBuffer<double> params;
        latent::testing::build_standalone(*rnn, latent::sequence_shape(T, F), params, rng);
        rnn->set_input_grad(true);
        Mat x(F, T * N);
        rng.fill_normal(x);
        const Mat y = rnn->forward_packed(x, T, Mode::train, &mask);
        const State last = rnn->final_state();
        Mat dy(H, T * N);
        rng.fill_normal(dy);
        params.zero_grad();
        const Mat dx = rnn->backward_packed(dy);
        const Vec g_masked = params.grads();

        Vec g_alone = Vec::Zero(params.size());
        for (Index n = 0; n < N; ++n) {
            const Index L = lengths[static_cast<std::size_t>(n)];
            Mat xn(F, L), dyn(H, L);
            for (Index t = 0; t < L; ++t) {
                xn.col(t) = x.col(t * N + n);
                dyn.col(t) = dy.col(t * N + n);
            }
            const Mat yn = rnn->forward_packed(xn, L, Mode::train);
            for (std::size_t k = 0; k < last.size(); ++k) CHECK((rnn->final_state()[k] - last[k].col(n)).norm() < 1e-12);
            for (Index t = 0; t < T; ++t) {
                if (t < L)
                    CHECK((y.col(t * N + n) - yn.col(t)).norm() < 1e-12);
                else
                    CHECK(y.col(t * N + n).norm() == 0.0);
            }
            params.zero_grad();
            const Mat dxn = rnn->backward_packed(dyn);
            g_alone += params.grads();
            for (Index t = 0; t < T; ++t) {
                if (t < L)
                    CHECK((dx.col(t * N + n) - dxn.col(t)).norm() < 1e-12);
                else
                    CHECK(dx.col(t * N + n).norm() == 0.0);
            }
        }
        INFO(kind);
        CHECK((g_masked - g_alone).norm() < 1e-10 * (1 + g_alone.norm()));
    }
}

TEST_CASE("the three interfaces (packed, Seq, flat) agree", "[recurrent]") {
    const Index F = 2, H = 3, T = 4, N = 5;
    for (std::string kind : {"LSTM", "GRU"}) {
        latent::Rng rng(9);
        auto rnn = make_rnn(kind, H, RnnOutput::sequence);
        latent::ParamBuffer<double> params;
        latent::testing::build_standalone(*rnn, latent::sequence_shape(T, F), params, rng);
        latent::Sequence<double> xs(T, Mat(F, N));
        for (auto& m : xs) rng.fill_normal(m);
        const Mat flat = latent::flatten_sequence(xs);
        REQUIRE(flat.rows() == T * F);
        const latent::Sequence<double> ys = rnn->forward_seq(xs, Mode::infer);
        const Mat yflat = rnn->forward(flat, Mode::infer);
        const auto back = latent::unflatten_sequence(yflat, T);
        REQUIRE(ys.size() == static_cast<std::size_t>(T));
        for (Index t = 0; t < T; ++t) CHECK((ys[static_cast<std::size_t>(t)] - back[static_cast<std::size_t>(t)]).norm() < 1e-14);
        for (Index t = 0; t < T; ++t) CHECK((xs[static_cast<std::size_t>(t)] - latent::unflatten_sequence(flat, T)[static_cast<std::size_t>(t)]).norm() == 0.0);
    }
}

TEST_CASE("repeated predictions are identical: no state leaks between calls", "[recurrent]") {
    for (std::string kind : {"LSTM", "GRU"}) {
        latent::Rng rng(2);
        auto rnn = make_rnn(kind, 5, RnnOutput::last);
        latent::ParamBuffer<double> params;
        latent::testing::build_standalone(*rnn, latent::sequence_shape(7, 3), params, rng);
        Mat a(21, 4), b(21, 9);
        rng.fill_normal(a);
        rng.fill_normal(b);
        const Mat first = rnn->forward(a, Mode::infer);
        rnn->forward(b, Mode::train);  // a different batch in between
        State s0{Mat::Ones(5, 4), Mat::Ones(5, 4)};
        if (kind == "GRU") s0.pop_back();
        Mat ap;
        latent::detail::flat_to_packed(a, 7, ap);
        rnn->forward_packed(ap, 7, Mode::infer, nullptr, &s0);  // and a call with an initial state
        const Mat second = rnn->forward(a, Mode::infer);
        CHECK(first == second);
    }
}

TEST_CASE("float LSTM and GRU give bitwise the same results on 1 and 2 threads", "[recurrent][threads]") {
    if (!latent::has_openmp()) {
        WARN("built without OpenMP: nothing to compare");
        return;
    }
    using MatF = latent::Matrix<float>;
    // 64 units and features, 40 steps of 64: the weight-gradient and input
    // products (>= 16M multiply-adds) may run threaded at 2 threads (matmul
    // measures whether that pays); the results must not depend on it.
    const Index T = 40, F = 64, N = 64, H = 64;
    for (std::string kind : {"LSTM", "GRU"}) {
        MatF y[2], dx[2];
        latent::Vector<float> g[2];
        for (int threads : {1, 2}) {
            latent::set_num_threads(threads);
            std::unique_ptr<latent::Recurrent<float>> rnn;
            if (kind == "LSTM")
                rnn = std::make_unique<latent::LSTM<float>>(H, RnnOutput::sequence);
            else
                rnn = std::make_unique<latent::GRU<float>>(H, RnnOutput::sequence);
            latent::Rng rng(8);
            latent::ParamBuffer<float> params;
            latent::testing::build_standalone(*rnn, latent::sequence_shape(T, F), params, rng);
            rnn->set_input_grad(true);
            MatF x(T * F, N);
            rng.fill_normal(x);
            const int i = threads - 1;
            y[i] = rnn->forward(x, Mode::train);
            MatF dy(y[i].rows(), y[i].cols());
            rng.fill_normal(dy);
            params.zero_grad();
            dx[i] = rnn->backward(dy);
            g[i] = params.grads();
        }
        latent::set_num_threads(1);
        INFO(kind);
        CHECK(y[0] == y[1]);
        CHECK(dx[0] == dx[1]);
        CHECK(g[0] == g[1]);
    }
}

TEST_CASE("recurrent layers reject wrong shapes, masks and states", "[recurrent]") {
    latent::Rng rng(1);
    latent::LSTM<double> lstm(4, RnnOutput::sequence);
    latent::ParamBuffer<double> params;
    latent::testing::build_standalone(lstm, latent::sequence_shape(3, 2), params, rng);
    Mat x(2, 3 * 5);
    rng.fill_normal(x);
    Mat bad(3, 15);
    CHECK_THROWS_AS(lstm.forward_packed(bad, 3, Mode::train), latent::ShapeError);
    CHECK_THROWS_AS(lstm.forward_packed(x, 4, Mode::train), latent::ShapeError);
    Mat mask = Mat::Ones(3, 4);
    CHECK_THROWS_AS(lstm.forward_packed(x, 3, Mode::train, &mask), latent::ShapeError);
    State one{Mat::Zero(4, 5)};
    CHECK_THROWS_AS(lstm.forward_packed(x, 3, Mode::train, nullptr, &one), latent::ShapeError);
    State wrong{Mat::Zero(4, 5), Mat::Zero(3, 5)};
    CHECK_THROWS_AS(lstm.forward_packed(x, 3, Mode::train, nullptr, &wrong), latent::ShapeError);
    CHECK_THROWS_AS(lstm.forward(Mat(5, 2), Mode::train), latent::ShapeError);
    CHECK_THROWS_AS(latent::LSTM<double>(0), latent::ConfigError);
    lstm.forward_packed(x, 3, Mode::train);
    CHECK_THROWS_AS(lstm.backward_packed(Mat(4, 5)), latent::ShapeError);
}

TEST_CASE("the Keras LSTM autoencoder stack is an ordinary Sequential: gradients and save/load", "[sequence][gradcheck]") {
    auto make = [] {
        auto seq = std::make_unique<latent::Sequential<double>>();
        seq->add<latent::LSTM<double>>(4, RnnOutput::last)
            .add<latent::RepeatVector<double>>(5)
            .add<latent::GRU<double>>(3, RnnOutput::sequence)
            .add(std::make_unique<latent::TimeDistributed<double>>(std::make_unique<latent::Dense<double>>(2)));
        return seq;
    };
    latent::Rng rng(8);
    auto seq = make();
    latent::ParamBuffer<double> params;
    latent::testing::build_standalone(*seq, latent::sequence_shape(5, 2), params, rng);
    Mat x(10, 3);
    rng.fill_normal(x);
    const auto r = latent::testing::check_layer(*seq, params, x, rng);
    INFO(r.str());
    CHECK(r.ok(kBound));

    latent::Network<double> net(make());
    net.build(latent::sequence_shape(5, 2), rng);
    const Mat y = net.predict(x);
    const std::string path = "test_recurrent_stack.lat";
    latent::save(net.root(), path);
    auto loaded = latent::load_network<double>(path);
    CHECK(loaded.root().config() == net.root().config());
    CHECK((loaded.predict(x) - y).norm() == 0.0);
    std::remove(path.c_str());
}

TEST_CASE("sequence losses: values, masked gradients", "[losses][gradcheck]") {
    const Index F = 4, T = 3, N = 5;
    latent::Rng rng(12);
    Mat p(F, T * N), t(F, T * N);
    rng.fill_normal(p);
    rng.fill_normal(t);
    const Mat mask = ragged_mask(T, N);
    latent::SequenceMSELoss<double> mse;
    latent::SequenceCrossEntropyLoss<double> ce;

    SECTION("MSE equals the mean over observed elements") {
        double s = 0, k = 0;
        for (Index tt = 0; tt < T; ++tt)
            for (Index n = 0; n < N; ++n)
                if (mask(tt, n) != 0) {
                    s += (p.col(tt * N + n) - t.col(tt * N + n)).squaredNorm();
                    k += F;
                }
        CHECK(std::abs(mse.evaluate_packed(p, t, T, nullptr, &mask) - s / k) < 1e-12);
        CHECK(std::abs(mse.evaluate_packed(p, t, T) - (p - t).squaredNorm() / static_cast<double>(p.size())) < 1e-12);
        const Mat per = mse.per_step_packed(p, t, T, &mask);
        CHECK(std::abs(per(0, 0) - (p.col(0) - t.col(0)).squaredNorm() / F) < 1e-12);
        CHECK(per(2, 1) == 0.0);
    }
    SECTION("cross-entropy equals -log softmax at the target class") {
        Mat onehot = Mat::Zero(F, T * N);
        for (Index j = 0; j < T * N; ++j) onehot(j % F, j) = 1;
        double s = 0;
        for (Index j = 0; j < T * N; ++j) {
            const double lse = std::log(p.col(j).array().exp().sum());
            s += lse - p(j % F, j);
        }
        CHECK(std::abs(ce.evaluate_packed(p, onehot, T) - s / static_cast<double>(T * N)) < 1e-12);
        Mat big = p * 1000.0;  // stable for large logits
        CHECK(std::isfinite(ce.evaluate_packed(big, onehot, T)));
    }
    SECTION("gradient checks, masked and unmasked") {
        Mat soft = t.array().exp().matrix();
        soft.array().rowwise() /= soft.colwise().sum().array();
        for (const latent::SequenceLoss<double>* loss : {static_cast<const latent::SequenceLoss<double>*>(&mse),
                                                         static_cast<const latent::SequenceLoss<double>*>(&ce)})
            for (const Mat* m : {static_cast<const Mat*>(nullptr), &mask}) {
                const Mat& target = loss == &mse ? t : soft;
                Mat g;
                loss->evaluate_packed(p, target, T, &g, m);
                const Vec p0 = Eigen::Map<const Vec>(p.data(), p.size());
                const auto rep = latent::testing::check_gradient(
                    [&](const Vec& v) { return loss->evaluate_packed(Eigen::Map<const Mat>(v.data(), F, T * N), target, T, nullptr, m); },
                    p0, Eigen::Map<const Vec>(g.data(), g.size()));
                INFO(loss->name() << (m ? " masked: " : ": ") << rep.str());
                CHECK(rep.ok(kBound));
                if (m)
                    for (Index tt = 0; tt < T; ++tt)
                        for (Index n = 0; n < N; ++n)
                            if (mask(tt, n) == 0) CHECK(g.col(tt * N + n).norm() == 0.0);
            }
    }
    SECTION("the Seq interface agrees with the packed one") {
        latent::Sequence<double> ps, ts, gs;
        latent::detail::unpack_into(p, T, ps);
        latent::detail::unpack_into(t, T, ts);
        Mat g;
        const double a = mse.evaluate_packed(p, t, T, &g, &mask);
        const double b = mse.evaluate(ps, ts, &gs, &mask);
        CHECK(a == b);
        for (Index tt = 0; tt < T; ++tt) CHECK(gs[static_cast<std::size_t>(tt)] == g.middleCols(tt * N, N));
        const Vec per = mse.per_sequence(ps, ts, &mask);
        CHECK(per.size() == N);
        CHECK(std::abs(per(2) - (p.col(2) - t.col(2)).squaredNorm() / F) < 1e-12);  // sample 2 has one real step
    }
}
