// Training: fit() end to end, validation, input transforms, masks, NaN
// handling, bad inputs, callbacks (early stopping, reduce-on-plateau),
// schedules inside fit, reproducibility, and a linear AE against PCA.
#include "support.hpp"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <latent/latent.hpp>

using namespace latent;
using latent_test::MatD;
using latent_test::VecD;

namespace {

// A Trainable that records what fit() hands it. Inputs are one row holding
// the column index; targets hold 1000 + index; masks 2000 + index.
class Recorder : public Trainable<double> {
public:
    Recorder() { buf_.bind({{"w", &w_}}); }
    ParamBuffer<double>& params() override { return buf_; }
    Index input_size() const override { return 1; }
    Index target_size() const override { return 1; }

    double train_batch(const MatD& x, const MatD& y, const MatD* mask) override {
        ++calls_;
        train_batches.push_back({x, y, mask ? *mask : MatD()});
        buf_.grads()(0) += 1;
        return calls_ == nan_at ? std::numeric_limits<double>::quiet_NaN() : loss_value;
    }
    double eval_batch(const MatD& x, const MatD& y, const MatD* mask) override {
        eval_batches.push_back({x, y, mask ? *mask : MatD()});
        return eval_value;
    }

    struct Batch {
        MatD x, y, mask;
    };
    std::vector<Batch> train_batches, eval_batches;
    long nan_at = -1;  // 1-based call that returns NaN
    double loss_value = 1.0, eval_value = 2.0;

private:
    ParamSlot<double> w_{"w", 1, 1, Init::zeros(), true};
    ParamBuffer<double> buf_;
    long calls_ = 0;
};

MatD indices(Index n, double offset = 0) {
    MatD m(1, n);
    for (Index j = 0; j < n; ++j) m(0, j) = offset + static_cast<double>(j);
    return m;
}

std::vector<double> seen(const std::vector<Recorder::Batch>& batches, MatD Recorder::Batch::*field, std::size_t from = 0,
                         std::size_t to = std::size_t(-1)) {
    std::vector<double> out;
    for (std::size_t b = from; b < std::min(to, batches.size()); ++b) {
        const MatD& m = batches[b].*field;
        for (Index j = 0; j < m.cols(); ++j) out.push_back(m(0, j));
    }
    return out;
}

// Low-rank data in (0, 1): sigmoid(A z + c), z ~ N(0, I_k), features x n.
template <class S>
Matrix<S> synthetic(Index features, Index n, Index k, std::uint64_t seed) {
    Rng rng(seed);
    MatD a(features, k), z(k, n);
    rng.fill_normal(a, 0.0, 1.5);
    rng.fill_normal(z);
    VecD c(features);
    rng.fill_normal(c, 0.0, 0.5);
    const MatD x = ((a * z).colwise() + c).unaryExpr([](double v) { return 1 / (1 + std::exp(-v)); });
    return x.cast<S>();
}

}  // namespace

TEST_CASE("a small autoencoder's loss falls by at least half in seconds", "[train][e2e]") {
    const auto t0 = std::chrono::steady_clock::now();
    const Matrix<float> x = synthetic<float>(32, 512, 4, 1);
    Rng rng(2);
    DenseAutoencoderOptions o;
    o.sizes = {32, 16, 4};
    auto ae = make_dense_autoencoder<float>(o, rng);
    const double before = ae.eval_batch(x, x, nullptr);
    Adam<float> adam(1e-2);
    FitOptions<float> fo;
    fo.epochs = 30;
    fo.batch_size = 32;
    fo.seed = 3;
    const History h = fit(ae, adam, x, fo);
    const double after = ae.eval_batch(x, x, nullptr);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO("loss before " << before << ", after " << after << ", " << secs << " s");
    CHECK(h.epochs.size() == 30);
    CHECK(h.stop_reason.empty());
    CHECK(after <= 0.5 * before);
    CHECK(h.last().loss < h.epochs.front().loss);
    CHECK(h.last().samples_per_second > 0);
    CHECK(secs < 10);
}

TEST_CASE("fit: every training column once per epoch, shuffled, in batches", "[train]") {
    Recorder r;
    const MatD x = indices(10), y = indices(10, 1000);
    SGD<double> sgd(0.1);
    FitOptions<double> o;
    o.epochs = 2;
    o.batch_size = 4;
    const History h = fit(r, sgd, x, y, o);
    REQUIRE(r.train_batches.size() == 6);  // 4 + 4 + 2, twice
    CHECK(r.train_batches[2].x.cols() == 2);
    for (std::size_t e = 0; e < 2; ++e) {
        auto cols = seen(r.train_batches, &Recorder::Batch::x, 3 * e, 3 * e + 3);
        std::sort(cols.begin(), cols.end());
        CHECK(cols == seen({{x, x, MatD()}}, &Recorder::Batch::x));
    }
    CHECK(seen(r.train_batches, &Recorder::Batch::x, 0, 3) != seen(r.train_batches, &Recorder::Batch::x, 3, 6));
    // targets travel with their inputs
    for (const auto& b : r.train_batches) CHECK(b.y.array().isApprox(b.x.array() + 1000));
    CHECK(h.epochs.size() == 2);
    CHECK_FALSE(h.last().has_val());
    CHECK(h.last().loss == Approx(1.0));
    CHECK(r.eval_batches.empty());
    // one optimizer step per batch
    CHECK(sgd.steps() == 6);

    // shuffle off: in order
    Recorder r2;
    o.shuffle = false;
    o.epochs = 1;
    fit(r2, sgd, x, y, o);
    CHECK(seen(r2.train_batches, &Recorder::Batch::x) == seen({{x, x, MatD()}}, &Recorder::Batch::x));
}

TEST_CASE("fit: validation_split holds out the last columns", "[train]") {
    Recorder r;
    const MatD x = indices(20), y = indices(20, 1000), m = indices(20, 2000);
    SGD<double> sgd(0.1);
    FitOptions<double> o;
    o.epochs = 3;
    o.batch_size = 3;
    o.validation_split = 0.25;
    o.mask = &m;
    const History h = fit(r, sgd, x, y, o);
    std::set<double> trained, evaluated;
    for (double v : seen(r.train_batches, &Recorder::Batch::x)) trained.insert(v);
    for (double v : seen(r.eval_batches, &Recorder::Batch::x)) evaluated.insert(v);
    CHECK(trained.size() == 15);
    CHECK(*trained.rbegin() == 14);
    CHECK(evaluated.size() == 5);
    CHECK(*evaluated.begin() == 15);
    // held-out targets and mask go with them
    for (const auto& b : r.eval_batches) {
        CHECK(b.y.array().isApprox(b.x.array() + 1000));
        CHECK(b.mask.array().isApprox(b.x.array() + 2000));
    }
    REQUIRE(h.epochs.size() == 3);
    CHECK(h.last().has_val());
    CHECK(h.last().val_loss == Approx(2.0));
}

TEST_CASE("fit: explicit validation data (and its targets and mask)", "[train]") {
    Recorder r;
    const MatD x = indices(8), y = indices(8, 1000);
    const MatD vx = indices(5, 500), vy = indices(5, 1500), vm = indices(5, 2500);
    SGD<double> sgd(0.1);
    FitOptions<double> o;
    o.epochs = 2;
    o.batch_size = 2;
    o.val_x = &vx;
    o.val_y = &vy;
    o.val_mask = &vm;
    o.validation_split = 0.5;  // ignored when validation data is given
    const History h = fit(r, sgd, x, y, o);
    CHECK(seen(r.train_batches, &Recorder::Batch::x).size() == 16);
    const auto ev = seen(r.eval_batches, &Recorder::Batch::x);
    REQUIRE(ev.size() == 10);
    CHECK(ev.front() == 500);
    for (const auto& b : r.eval_batches) {
        CHECK(b.y.array().isApprox(b.x.array() + 1000));
        CHECK(b.mask.array().isApprox(b.x.array() + 2000));
    }
    CHECK(h.last().val_loss == Approx(2.0));

    // targets default to the validation inputs
    Recorder r2;
    o.val_y = nullptr;
    o.val_mask = nullptr;
    fit(r2, sgd, x, y, o);
    for (const auto& b : r2.eval_batches) {
        CHECK(b.y == b.x);
        CHECK(b.mask.size() == 0);
    }
}

TEST_CASE("History: per-epoch loss and validation loss series", "[train]") {
    History h;
    CHECK(h.losses().empty());
    for (int i = 1; i <= 3; ++i) {
        EpochLog e;
        e.epoch = i;
        e.loss = 1.0 / i;
        e.val_loss = 2.0 / i;
        h.epochs.push_back(e);
    }
    CHECK(h.losses() == std::vector<double>{1.0, 0.5, 1.0 / 3});
    CHECK(h.val_losses() == std::vector<double>{2.0, 1.0, 2.0 / 3});
}

TEST_CASE("fit: input_transform corrupts inputs only, afresh each epoch", "[train]") {
    Recorder r;
    const MatD x = indices(6), y = indices(6, 1000);
    const MatD vx = indices(3, 100);
    SGD<double> sgd(0.1);
    FitOptions<double> o;
    o.epochs = 2;
    o.batch_size = 6;
    o.shuffle = false;
    o.val_x = &vx;
    o.input_transform = [](MatD& b, Rng& rng) {
        for (Index i = 0; i < b.size(); ++i) b.data()[i] += 0.5 + rng.uniform();  // +[0.5, 1.5)
    };
    fit(r, sgd, x, y, o);
    REQUIRE(r.train_batches.size() == 2);
    for (const auto& b : r.train_batches) {
        const MatD noise = b.x.array() - (b.y.array() - 1000);  // targets are clean
        CHECK(noise.minCoeff() >= 0.5);
        CHECK(noise.maxCoeff() < 1.5);
    }
    CHECK(r.train_batches[0].x != r.train_batches[1].x);  // fresh each epoch
    CHECK(x == indices(6));                              // the caller's data is untouched
    for (const auto& b : r.eval_batches) CHECK(b.x == indices(3, 100));  // validation stays clean
}

TEST_CASE("fit: the mask is passed through with its columns", "[train]") {
    Recorder r;
    const MatD x = indices(9), y = indices(9, 1000), m = indices(9, 2000);
    SGD<double> sgd(0.1);
    FitOptions<double> o;
    o.epochs = 2;
    o.batch_size = 4;
    o.mask = &m;
    fit(r, sgd, x, y, o);
    for (const auto& b : r.train_batches) CHECK(b.mask.array().isApprox(b.x.array() + 2000));
}

TEST_CASE("fit with a mask trains only on observed entries; NaN targets there are allowed", "[train]") {
    Rng rng(5);
    Matrix<double> x = synthetic<double>(10, 64, 3, 6);
    MatD mask = MatD::Ones(10, 64);
    for (Index j = 0; j < 64; ++j) mask(j % 10, j) = 0;
    MatD y = x;
    for (Index i = 0; i < y.size(); ++i)
        if (mask.data()[i] == 0) y.data()[i] = std::numeric_limits<double>::quiet_NaN();  // missing
    DenseAutoencoderOptions o;
    o.sizes = {10, 4};
    auto ae = make_dense_autoencoder<double>(o, rng);
    Adam<double> adam(1e-2);
    FitOptions<double> fo;
    fo.epochs = 3;
    fo.mask = &mask;
    const History h = fit(ae, adam, x, y, fo);
    CHECK(std::isfinite(h.last().loss));
    CHECK(ae.params().values().allFinite());
    // but a NaN where the mask says observed is still bad data
    y(0, 1) = std::numeric_limits<double>::quiet_NaN();
    REQUIRE(mask(0, 1) == 1);
    CHECK_THROWS_AS(fit(ae, adam, x, y, fo), DataError);
}

TEST_CASE("fit: a NaN loss throws NumericError naming epoch and batch", "[train]") {
    Recorder r;
    r.nan_at = 5;  // epoch 2 (3 batches an epoch), batch 2
    const MatD x = indices(9), y = indices(9, 1000);
    SGD<double> sgd(0.1);
    FitOptions<double> o;
    o.epochs = 4;
    o.batch_size = 3;
    o.schedule = std::make_shared<ExponentialLR>(0.5);
    LATENT_CHECK_THROWS_WITH_ALL(fit(r, sgd, x, y, o), NumericError, "epoch 2", "batch 2", "nan");
    CHECK(sgd.learning_rate() == 0.1);  // the scheduled rate does not stick after the throw

    SECTION("OnNaN::stop records the reason and keeps the completed epochs") {
        Recorder r2;
        r2.nan_at = 5;
        o.on_nan = OnNaN::stop;
        SGD<double> sgd2(0.1);
        const History h = fit(r2, sgd2, x, y, o);
        CHECK(h.epochs.size() == 1);
        CHECK(latent_test::contains(h.stop_reason, "epoch 2"));
        CHECK(latent_test::contains(h.stop_reason, "batch 2"));
        CHECK(sgd2.steps() == 4);  // the diverged batch is not applied
    }
}

TEST_CASE("fit: a diverging real model throws NumericError", "[train]") {
    Rng rng(7);
    DenseAutoencoderOptions o;
    o.sizes = {8, 4};
    o.hidden = o.code = o.output = Act::identity;
    auto ae = make_dense_autoencoder<double>(o, rng);
    const MatD x = MatD::Random(8, 32) * 10;
    SGD<double> sgd(1e3);
    FitOptions<double> fo;
    fo.epochs = 50;
    fo.batch_size = 8;
    LATENT_CHECK_THROWS_WITH_ALL(fit(ae, sgd, x, fo), NumericError, "epoch", "batch", "learning rate");
}

TEST_CASE("fit: bad inputs throw the right latent::Error", "[train]") {
    Rng rng(8);
    DenseAutoencoderOptions o;
    o.sizes = {6, 3};
    auto ae = make_dense_autoencoder<double>(o, rng);
    SGD<double> sgd(0.1);
    const MatD x = MatD::Random(6, 10).cwiseAbs();
    FitOptions<double> fo;
    fo.epochs = 1;
    SECTION("wrong number of rows") {
        const MatD bad = MatD::Zero(5, 10);
        LATENT_CHECK_THROWS_WITH_ALL(fit(ae, sgd, bad, fo), ShapeError, "6", "5");
    }
    SECTION("targets with other columns") {
        const MatD y = MatD::Zero(6, 9);
        LATENT_CHECK_THROWS_WITH_ALL(fit(ae, sgd, x, y, fo), ShapeError, "6x10", "6x9");
    }
    SECTION("targets with other rows") {
        const MatD y = MatD::Zero(7, 10);
        LATENT_CHECK_THROWS_WITH_ALL(fit(ae, sgd, x, y, fo), ShapeError, "6x10", "7x10");
    }
    SECTION("NaN and Inf in inputs") {
        MatD bad = x;
        bad(2, 3) = std::numeric_limits<double>::quiet_NaN();
        LATENT_CHECK_THROWS_WITH_ALL(fit(ae, sgd, bad, x, fo), DataError, "row 2", "column 3");
        bad(2, 3) = std::numeric_limits<double>::infinity();
        CHECK_THROWS_AS(fit(ae, sgd, bad, x, fo), DataError);
    }
    SECTION("NaN in validation inputs") {
        MatD v = x;
        v(0, 0) = std::numeric_limits<double>::quiet_NaN();
        fo.val_x = &v;
        CHECK_THROWS_AS(fit(ae, sgd, x, fo), DataError);
    }
    SECTION("zero batch size") {
        fo.batch_size = 0;
        LATENT_CHECK_THROWS_WITH_ALL(fit(ae, sgd, x, fo), ConfigError, "batch_size", "0");
    }
    SECTION("no samples") {
        const MatD empty(6, 0);
        CHECK_THROWS_AS(fit(ae, sgd, empty, fo), DataError);
    }
    SECTION("negative epochs, bad split") {
        fo.epochs = -1;
        CHECK_THROWS_AS(fit(ae, sgd, x, fo), ConfigError);
        fo.epochs = 1;
        fo.validation_split = 1.0;
        CHECK_THROWS_AS(fit(ae, sgd, x, fo), ConfigError);
    }
    SECTION("a mask of another shape") {
        const MatD m = MatD::Ones(6, 9);
        fo.mask = &m;
        CHECK_THROWS_AS(fit(ae, sgd, x, fo), ShapeError);
    }
    SECTION("validation data of another shape") {
        const MatD v = MatD::Zero(5, 4);
        fo.val_x = &v;
        CHECK_THROWS_AS(fit(ae, sgd, x, fo), ShapeError);
        const MatD v2 = MatD::Zero(6, 4), vm = MatD::Ones(6, 3);
        fo.val_x = &v2;
        fo.val_mask = &vm;
        CHECK_THROWS_AS(fit(ae, sgd, x, fo), ShapeError);
    }
    SECTION("nothing was changed by a rejected fit") {
        const VecD before = ae.params().values();
        const MatD bad = MatD::Zero(5, 10);
        CHECK_THROWS(fit(ae, sgd, bad, fo));
        CHECK(ae.params().values() == before);
        CHECK(sgd.steps() == 0);
    }
}

TEST_CASE("EarlyStopping: stops after `patience` epochs without improvement and restores the best", "[train]") {
    ParamSlot<double> w{"w", 2, 1, Init::zeros(), true};
    ParamBuffer<double> buf;
    buf.bind({{"w", &w}});
    TrainControl<double> ctl;
    ctl.params = &buf;
    EarlyStopping<double> es(2);
    es.on_train_begin(ctl);
    const double losses[] = {1.0, 0.8, 0.9, 0.85, 0.7};
    long stopped_after = 0;
    for (long e = 1; e <= 5 && !ctl.stop; ++e) {
        buf.values().setConstant(static_cast<double>(e));  // "the weights of epoch e"
        EpochLog log;
        log.epoch = e;
        log.loss = losses[e - 1];
        es.on_epoch_end(log, ctl);
        stopped_after = e;
    }
    CHECK(ctl.stop);
    CHECK(stopped_after == 4);  // epochs 3 and 4 did not improve on epoch 2
    CHECK(latent_test::contains(ctl.stop_reason, "2 epochs"));
    CHECK(es.best_epoch() == 2);
    es.on_train_end(ctl);
    CHECK(ctl.restored_epoch == 2);
    CHECK(buf.values() == VecD::Constant(2, 2.0));

    SECTION("validation loss is monitored when there is one") {
        EarlyStopping<double> v(0);
        TrainControl<double> c;
        c.params = &buf;
        v.on_train_begin(c);
        EpochLog a;
        a.epoch = 1;
        a.loss = 5;
        a.val_loss = 1;
        v.on_epoch_end(a, c);
        EpochLog b;
        b.epoch = 2;
        b.loss = 1;  // training improves, validation does not
        b.val_loss = 1.5;
        v.on_epoch_end(b, c);
        CHECK(c.stop);
    }
}

TEST_CASE("EarlyStopping inside fit puts back the best epoch's weights", "[train]") {
    // Validation data from another distribution, a high learning rate: the
    // validation loss wanders. Record the weights after every epoch and
    // check the model ends with those of the best validation epoch.
    struct Snapshots : Callback<double> {
        std::vector<VecD> values;
        std::vector<double> val;
        void on_epoch_end(const EpochLog& log, TrainControl<double>& ctl) override {
            values.push_back(ctl.params->values());
            val.push_back(log.val_loss);
        }
    } snaps;
    Rng rng(9);
    DenseAutoencoderOptions o;
    o.sizes = {10, 4};
    auto ae = make_dense_autoencoder<double>(o, rng);
    const MatD x = synthetic<double>(10, 64, 2, 10);
    const MatD v = synthetic<double>(10, 32, 5, 11);
    EarlyStopping<double> es(3);
    SGDOptions so;
    so.lr = 2.0;
    so.momentum = 0.9;
    SGD<double> sgd(so);
    FitOptions<double> fo;
    fo.epochs = 40;
    fo.batch_size = 8;
    fo.val_x = &v;
    fo.callbacks = {&snaps, &es};
    const History h = fit(ae, sgd, x, fo);
    REQUIRE(!snaps.val.empty());
    const auto best = std::min_element(snaps.val.begin(), snaps.val.end()) - snaps.val.begin();
    INFO("epochs run " << snaps.val.size() << ", best " << best + 1 << ", stop: " << h.stop_reason);
    CHECK(ae.params().values() == snaps.values[static_cast<std::size_t>(best)]);
    CHECK(h.best_epoch == best + 1);
    CHECK(es.best_epoch() == best + 1);
    if (snaps.val.size() < 40) CHECK(!h.stop_reason.empty());
}

TEST_CASE("ReduceLROnPlateau: PyTorch's rule", "[train]") {
    ReduceLROnPlateau<double> p(0.5, 2, 0.1);
    TrainControl<double> ctl;
    p.on_train_begin(ctl);
    const double losses[] = {1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95};
    std::vector<double> scale;
    long e = 0;
    for (double l : losses) {
        EpochLog log;
        log.epoch = ++e;
        log.loss = l;
        p.on_epoch_end(log, ctl);
        scale.push_back(ctl.lr_scale);
    }
    // bad epochs 3, 4, 5 -> reduce after the third (num_bad > patience), then again 3 later
    const std::vector<double> expect = {1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125, 0.125};
    CHECK(scale == expect);
    for (int i = 0; i < 20; ++i) {
        EpochLog log;
        log.epoch = ++e;
        log.loss = 1.0;
        p.on_epoch_end(log, ctl);
    }
    CHECK(ctl.lr_scale == Approx(0.1));  // the floor
    // a relative improvement below min_delta (1e-4) is no improvement
    ReduceLROnPlateau<double> q(0.5, 0);
    TrainControl<double> c2;
    q.on_train_begin(c2);
    EpochLog a;
    a.epoch = 1;
    a.loss = 1.0;
    q.on_epoch_end(a, c2);
    a.epoch = 2;
    a.loss = 0.99995;
    q.on_epoch_end(a, c2);
    CHECK(c2.lr_scale == 0.5);
}

TEST_CASE("schedules and plateau scaling drive the optimizer inside fit", "[train]") {
    Recorder r;
    const MatD x = indices(8), y = indices(8, 1000);
    SGD<double> sgd(0.4);
    FitOptions<double> o;
    o.epochs = 3;
    o.batch_size = 4;
    o.schedule = std::make_shared<StepLR>(1, 0.5);
    History h = fit(r, sgd, x, y, o);
    REQUIRE(h.epochs.size() == 3);
    CHECK(h.epochs[0].learning_rate == Approx(0.4));
    CHECK(h.epochs[1].learning_rate == Approx(0.2));
    CHECK(h.epochs[2].learning_rate == Approx(0.1));
    CHECK(sgd.learning_rate() == 0.4);  // restored after fit

    // warm-up: the rate climbs within the first epoch, per step
    struct LrLog : Callback<double> {
        SGD<double>* opt;
        std::vector<double> lr;
        void on_batch_end(long, double, TrainControl<double>&) override { lr.push_back(opt->learning_rate()); }
    } log;
    log.opt = &sgd;
    Recorder r2;
    o.schedule = std::make_shared<CosineLR>(3, 1);
    o.epochs = 3;
    o.callbacks = {&log};
    fit(r2, sgd, x, y, o);
    REQUIRE(log.lr.size() == 6);
    CHECK(log.lr[0] == Approx(0).margin(1e-9));
    CHECK(log.lr[1] == Approx(0.2));  // epoch 0.5 of 1 warm-up
    CHECK(log.lr[2] == Approx(0.4));
    CHECK(log.lr[5] == Approx(0.4 * 0.5 * (1 + std::cos(3.141592653589793 * 0.75))));

    // reduce-on-plateau scales what the schedule gives
    Recorder r3;
    r3.eval_value = 1.0;  // never improves after the first epoch
    ReduceLROnPlateau<double> plateau(0.5, 0);
    const MatD vx = indices(2);
    FitOptions<double> p;
    p.epochs = 3;
    p.batch_size = 8;
    p.val_x = &vx;
    p.callbacks = {&plateau};
    h = fit(r3, sgd, x, y, p);
    CHECK(h.epochs[0].learning_rate == Approx(0.4));
    CHECK(h.epochs[1].learning_rate == Approx(0.4));
    CHECK(h.epochs[2].learning_rate == Approx(0.2));
}

TEST_CASE("clip_norm inside fit bounds the gradient the optimizer sees", "[train]") {
    Recorder r;  // gradient 1 per batch on its one parameter
    const MatD x = indices(4), y = indices(4, 1000);
    SGD<double> sgd(1.0);
    FitOptions<double> o;
    o.epochs = 1;
    o.batch_size = 4;
    o.clip_norm = 0.25;
    fit(r, sgd, x, y, o);
    CHECK(r.params().values()(0) == Approx(-0.25).epsilon(1e-5));
}

TEST_CASE("History as JSON", "[train]") {
    History h;
    EpochLog e;
    e.epoch = 1;
    e.loss = 0.5;
    e.parts = {{"recon", 0.25}};
    h.epochs.push_back(e);
    h.stop_reason = "done";
    const std::string j = h.to_json();
    CHECK(latent_test::contains(j, "\"epoch\":1"));
    CHECK(latent_test::contains(j, "\"loss\":0.5"));
    CHECK(latent_test::contains(j, "\"val_loss\":null"));
    CHECK(latent_test::contains(j, "\"recon\":0.25"));
    CHECK(latent_test::contains(j, "\"stop_reason\":\"done\""));
    CHECK(h.final_loss() == 0.5);
}

namespace {

// build + fit from one seed; returns the parameters
VecD train_once(std::uint64_t seed) {
    Rng rng(seed);
    DenseAutoencoderOptions o;
    o.sizes = {12, 8, 3};
    o.dropout = 0.2;
    o.input_noise = 0.05;
    auto ae = make_dense_autoencoder<float>(o, rng);
    const Matrix<float> x = synthetic<float>(12, 100, 3, 12);
    Adam<float> adam(1e-2);
    FitOptions<float> fo;
    fo.epochs = 3;
    fo.batch_size = 16;
    fo.seed = seed;
    fo.validation_split = 0.1;
    fo.input_transform = [](Matrix<float>& b, Rng& r) {
        for (Index i = 0; i < b.size(); ++i)
            if (r.bernoulli(0.1)) b.data()[i] = 0;
    };
    fit(ae, adam, x, fo);
    return ae.params().values().cast<double>();
}

}  // namespace

TEST_CASE("same seed, same weights bit for bit; another seed, other weights", "[train][reproducible]") {
    const VecD a = train_once(42), b = train_once(42), c = train_once(43);
    REQUIRE(a.size() == b.size());
    CHECK(std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0);
    CHECK(a != c);
}

TEST_CASE("a linear autoencoder reaches PCA's reconstruction error", "[train][e2e]") {
    // 16 features from 4 strong directions plus small isotropic noise, not centered
    const Index d = 16, n = 512, k = 4;
    Rng rng(20);
    MatD basis(d, d);
    rng.fill_normal(basis);
    const MatD q = Eigen::HouseholderQR<MatD>(basis).householderQ();
    VecD scale(k);
    scale << 3.0, 2.0, 1.5, 1.0;
    MatD z(k, n), noise(d, n);
    rng.fill_normal(z);
    rng.fill_normal(noise, 0.0, 0.15);
    VecD mean(d);
    rng.fill_uniform(mean, -1, 1);
    const MatD x = ((q.leftCols(k) * scale.asDiagonal() * z + noise).colwise() + mean);

    // PCA with k components: centered covariance, top-k eigenvectors
    const VecD mu = x.rowwise().mean();
    const MatD xc = x.colwise() - mu;
    const MatD cov = xc * xc.transpose() / static_cast<double>(n);
    Eigen::SelfAdjointEigenSolver<MatD> eig(cov);
    const MatD top = eig.eigenvectors().rightCols(k);  // eigenvalues ascending
    const MatD recon = (top * (top.transpose() * xc)).colwise() + mu;
    const double pca_mse = (recon - x).squaredNorm() / static_cast<double>(x.size());

    DenseAutoencoderOptions o;
    o.sizes = {d, k};
    o.hidden = o.code = o.output = Act::identity;
    auto ae = make_dense_autoencoder<double>(o, rng);
    Adam<double> adam(2e-2);
    FitOptions<double> fo;
    fo.epochs = 150;
    fo.batch_size = 32;
    fo.schedule = std::make_shared<CosineLR>(150);
    fit(ae, adam, x, fo);
    const double ae_mse = (ae.reconstruct(x) - x).squaredNorm() / static_cast<double>(x.size());
    INFO("PCA-" << k << " MSE " << pca_mse << ", linear AE MSE " << ae_mse);
    CHECK(ae_mse >= pca_mse * (1 - 1e-9));  // PCA is optimal among rank-k linear maps
    CHECK(ae_mse <= pca_mse * 1.02);
}

TEST_CASE("fit with epochs = 0 returns an empty History whose last() throws", "[train]") {
    Recorder r;
    const MatD x = indices(6), y = indices(6, 1000);
    SGD<double> sgd(0.1);
    FitOptions<double> o;
    o.epochs = 0;
    o.progress = o.print_epochs = false;
    const History h = fit(r, sgd, x, y, o);
    CHECK(h.empty());
    CHECK_THROWS_AS(h.last(), Error);
    // and OnNaN::stop in the first epoch: empty too, with the reason
    r.nan_at = 1;
    o.epochs = 3;
    o.on_nan = OnNaN::stop;
    const History s = fit(r, sgd, x, y, o);
    CHECK(s.empty());
    CHECK(latent_test::contains(s.stop_reason, "diverged"));
    CHECK_THROWS_AS(s.last(), Error);
}

TEST_CASE("float: large but finite gradients are not a divergence and clip to a finite norm", "[train]") {
    // Inputs of 1e30 give weight gradients near 1e29 each (MAE: a loss near
    // 1e31, finite): their squared norm overflows float although every value is finite.
    Rng rng(3);
    Matrix<float> x = Matrix<float>::Constant(8, 16, 1e30f);
    Matrix<float> y = Matrix<float>::Zero(8, 16);
    auto enc = std::make_unique<Sequential<float>>();
    enc->add<Dense<float>>(8);
    auto dec = std::make_unique<Sequential<float>>();
    dec->add<Dense<float>>(8);
    Autoencoder<float> ae(std::move(enc), std::move(dec));
    ae.set_loss(std::make_unique<MAELoss<float>>());
    ae.build(Shape{8}, rng);
    ae.params().zero_grad();
    const float loss = ae.train_batch(x, y, nullptr);
    REQUIRE(std::isfinite(loss));
    REQUIRE(ae.params().grads().allFinite());
    REQUIRE_FALSE(std::isfinite(ae.params().grads().squaredNorm()));  // the overflow this test is about
    // the divergence check of fit is params.grads().allFinite(), true here
    CHECK(ae.params().grads().allFinite());
    // clipping works on such gradients too (a norm of inf would zero them)
    ae.params().zero_grad();
    ae.train_batch(x, y, nullptr);
    const float norm = clip_grad_norm(ae.params(), 1.0);
    CHECK(std::isfinite(norm));
    CHECK(ae.params().grads().norm() == Approx(1.0).epsilon(1e-3));
}

namespace {
// Two replicas in one process, a thread each, meeting at a shared buffer:
// exercises fit's sharded step through Replicas' default reduce_scatter and
// all_gather (both built on sum), without MPI.
struct Meeting {
    std::mutex m;
    std::condition_variable cv;
    int arrived = 0;
    long generation = 0;
    std::vector<float> f;
    std::vector<double> d;
    void wait() {
        std::unique_lock<std::mutex> lock(m);
        const long g = generation;
        if (++arrived == 2) {
            arrived = 0;
            ++generation;
            cv.notify_all();
        } else {
            cv.wait(lock, [&] { return generation != g; });
        }
    }
    std::vector<float>& buffer(float) { return f; }
    std::vector<double>& buffer(double) { return d; }
};

class ThreadReplica : public Replicas {
public:
    ThreadReplica(int rank, Meeting& meet) : rank_(rank), meet_(meet) {}
    int rank() const override { return rank_; }
    int size() const override { return 2; }
    void broadcast(float* data, Index n) override { share(data, n, false); }
    void broadcast(double* data, Index n) override { share(data, n, false); }
    void sum(float* data, Index n) override { share(data, n, true); }
    void sum(double* data, Index n) override { share(data, n, true); }

private:
    template <class S>
    void share(S* data, Index n, bool add) {
        auto& buf = meet_.buffer(S{});
        if (rank_ == 0) buf.assign(data, data + n);
        meet_.wait();
        if (rank_ == 1 && add)
            for (Index i = 0; i < n; ++i) buf[static_cast<std::size_t>(i)] += data[i];
        meet_.wait();
        std::copy(buf.begin(), buf.end(), data);
        meet_.wait();
    }
    int rank_;
    Meeting& meet_;
};
}  // namespace

TEST_CASE("fit with replicas through Replicas' default reduce_scatter and all_gather equals one process", "[train]") {
    Rng drng(5);
    MatD x(12, 61);  // batches of 10: 6 even, then 1 sample
    drng.fill_uniform(x);
    auto make = [] {
        Rng rng(2);
        DenseAutoencoderOptions o;
        o.sizes = {12, 7, 3};
        return make_dense_autoencoder<double>(o, rng);
    };
    FitOptions<double> fo;
    fo.epochs = 3;
    fo.batch_size = 10;
    fo.seed = 4;
    fo.clip_norm = 0.1;
    fo.progress = false;
    auto single = make();
    Adam<double> adam(1e-2);
    const History h = fit(single, adam, x, fo);

    Meeting meet;
    auto r0 = make(), r1 = make();
    Adam<double> a0(1e-2), a1(1e-2);
    ThreadReplica p0(0, meet), p1(1, meet);
    History h0, h1;
    std::thread other([&] {
        FitOptions<double> o = fo;
        o.replicas = &p1;
        h1 = fit(r1, a1, x, o);
    });
    FitOptions<double> o = fo;
    o.replicas = &p0;
    h0 = fit(r0, a0, x, o);
    other.join();
    CHECK(r0.params().values() == r1.params().values());
    CHECK((r0.params().values() - single.params().values()).cwiseAbs().maxCoeff() < 1e-12);
    for (std::size_t k = 0; k < adam.state().size(); ++k) {
        CHECK(*a0.state()[k] == *a1.state()[k]);
        CHECK((*a0.state()[k] - *adam.state()[k]).cwiseAbs().maxCoeff() < 1e-12);
    }
    REQUIRE(h0.epochs.size() == h.epochs.size());
    CHECK(h0.epochs.back().loss == Approx(h.epochs.back().loss).epsilon(1e-12));
    CHECK(h1.epochs.back().loss == h0.epochs.back().loss);
}
