// Data-parallel fit over MPI (latent/distributed/mpi.hpp). Run by CTest as
// `mpirun -np 2 test_mpi`: every rank runs every test case; each also trains
// the single-process reference itself (fit without replicas), so "2 ranks with
// global batch B == 1 process with batch B" is checked on every rank.
#include "support.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>

#include <unistd.h>

#include <latent/distributed/mpi.hpp>
#include <latent/latent.hpp>

using latent::Index;
using latent::Matrix;

namespace {

latent::mpi::Communicator& world() {
    static latent::mpi::Environment env;
    static latent::mpi::Communicator comm;
    return comm;
}

template <class A, class B>
double max_abs_diff(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b) {
    return static_cast<double>((a - b).cwiseAbs().maxCoeff());
}

template <class S>
double max_state_diff(latent::Optimizer<S>& a, latent::Optimizer<S>& b) {
    const auto sa = a.state(), sb = b.state();
    REQUIRE(sa.size() == sb.size());
    double d = 0;
    for (std::size_t k = 0; k < sa.size(); ++k) d = std::max(d, max_abs_diff(*sa[k], *sb[k]));
    return d;
}

template <class S>
std::unique_ptr<latent::Optimizer<S>> adam_1e2() {
    return std::make_unique<latent::Adam<S>>(1e-2);
}

// Trains `make()` twice from the same seed: alone, and as one of the replicas. Returns the
// largest parameter (and optimizer state) difference; checks the replicas agree exactly
// (parameters and the optimizer's state, which each replica stepped a share of) and the
// histories match.
template <class S, class Make>
double distributed_vs_single(Make make, const Matrix<S>& x, latent::FitOptions<S> o, double loss_tol,
                             std::unique_ptr<latent::Optimizer<S>> (*make_optimizer)() = adam_1e2<S>) {
    auto& comm = world();
    auto single = make();
    auto opt1 = make_optimizer();
    const auto h1 = latent::fit(single, *opt1, x, o);

    auto replica = make();
    auto opt2 = make_optimizer();
    o.replicas = &comm;
    const auto h2 = latent::fit(replica, *opt2, x, o);

    CHECK(latent::mpi::max_param_divergence(replica.params(), comm) == 0.0);  // replicas in sync, bit for bit
    for (auto* v : opt2->state()) {
        latent::ParamBuffer<S> wrap;  // max_param_divergence over the state vector
        latent::ParamSlot<S> slot{"state", v->size(), 1, latent::Init::zeros(), true};
        wrap.bind({{"state", &slot}});
        wrap.values() = *v;
        CHECK(latent::mpi::max_param_divergence(wrap, comm) == 0.0);
    }
    CHECK(opt1->steps() == opt2->steps());
    REQUIRE(h1.epochs.size() == h2.epochs.size());
    for (std::size_t e = 0; e < h1.epochs.size(); ++e) {
        CHECK(std::abs(h1.epochs[e].loss - h2.epochs[e].loss) <= loss_tol * std::abs(h1.epochs[e].loss));
        if (h1.epochs[e].has_val()) CHECK(std::abs(h1.epochs[e].val_loss - h2.epochs[e].val_loss) <= loss_tol * std::abs(h1.epochs[e].val_loss));
    }
    return std::max(max_abs_diff(single.params().values(), replica.params().values()), max_state_diff(*opt1, *opt2));
}

template <class S>
latent::Autoencoder<S> dense_ae() {
    latent::Rng rng(3);
    latent::DenseAutoencoderOptions o;
    o.sizes = {16, 12, 4};
    return latent::make_dense_autoencoder<S>(o, rng);
}

}  // namespace

// Records whether the parameters were in memory lent by the replicas during fit.
template <class S>
struct LentProbe : latent::Callback<S> {
    bool lent_in_batches = false, lent_at_end = true;
    void on_batch_end(long, double, latent::TrainControl<S>& c) override { lent_in_batches = c.params->storage_lent(); }
    void on_train_end(latent::TrainControl<S>& c) override { lent_at_end = c.params->storage_lent(); }
};

TEST_CASE("2 ranks with global batch B train as 1 process with batch B (dense AE, float and double)", "[mpi]") {
    REQUIRE(world().size() == 2);
    const bool shared = GENERATE(true, false);  // the shared-memory window, and the ring of messages
    world().set_shared_memory(shared);
    INFO("shared memory " << shared);
    latent::Rng drng(11);
    Matrix<double> xd(16, 203);  // 203 = 12 x 16 + 11: an uneven last batch, shared 5 / 6
    drng.fill_uniform(xd);
    const Matrix<float> xf = xd.cast<float>();
    latent::FitOptions<double> od;
    od.epochs = 3;
    od.batch_size = 16;
    od.seed = 5;
    od.validation_split = 0.1;
    od.progress = false;
    latent::FitOptions<float> of;
    of.epochs = od.epochs;
    of.batch_size = od.batch_size;
    of.seed = od.seed;
    of.validation_split = od.validation_split;
    of.progress = false;
    LentProbe<double> probe;
    od.callbacks = {&probe};
    const double dd = distributed_vs_single<double>(dense_ae<double>, xd, od, 1e-12);
    CHECK(probe.lent_in_batches == shared);  // one machine: the window is used when allowed
    CHECK(!probe.lent_at_end);               // and the model has its own storage back before on_train_end
    const double df = distributed_vs_single<float>(dense_ae<float>, xf, of, 1e-5);
    if (world().rank() == 0)
        std::printf("dense AE 16-12-4-12-16, Adam 1e-2, 3 epochs x 12 steps, batch 16, %s: max |param diff| 2 ranks vs 1: double %.3g, float %.3g\n",
                    shared ? "shared memory" : "messages", dd, df);
    CHECK(dd < 1e-12);
    CHECK(df < 1e-5);
}

TEST_CASE("Each rank steps its share of the parameters: every optimizer, with clipping, equals one process", "[mpi]") {
    REQUIRE(world().size() == 2);
    const bool shared = GENERATE(true, false);
    world().set_shared_memory(shared);
    INFO("shared memory " << shared);
    latent::Rng drng(21);
    Matrix<double> x(16, 57);  // batches of 8: 7 even steps and one of 1 sample (rank 0 gets none)
    drng.fill_uniform(x);
    latent::FitOptions<double> o;
    o.epochs = 2;
    o.batch_size = 8;
    o.seed = 9;
    o.progress = false;
    SECTION("SGD, Nesterov momentum, weight decay") {
        auto make = []() -> std::unique_ptr<latent::Optimizer<double>> {
            latent::SGDOptions p;
            p.lr = 0.1;
            p.momentum = 0.9;
            p.nesterov = true;
            p.weight_decay = 1e-3;
            return std::make_unique<latent::SGD<double>>(p);
        };
        CHECK(distributed_vs_single<double>(dense_ae<double>, x, o, 1e-12, +make) < 1e-12);
    }
    SECTION("RMSProp with momentum, AdaGrad, AdamW") {
        auto rms = []() -> std::unique_ptr<latent::Optimizer<double>> {
            latent::RMSPropOptions p;
            p.lr = 1e-2;
            p.momentum = 0.5;
            return std::make_unique<latent::RMSProp<double>>(p);
        };
        auto ada = []() -> std::unique_ptr<latent::Optimizer<double>> { return std::make_unique<latent::AdaGrad<double>>(0.1); };
        auto adamw = []() -> std::unique_ptr<latent::Optimizer<double>> { return std::make_unique<latent::AdamW<double>>(1e-2); };
        CHECK(distributed_vs_single<double>(dense_ae<double>, x, o, 1e-12, +rms) < 1e-12);
        CHECK(distributed_vs_single<double>(dense_ae<double>, x, o, 1e-12, +ada) < 1e-12);
        CHECK(distributed_vs_single<double>(dense_ae<double>, x, o, 1e-12, +adamw) < 1e-12);
    }
    SECTION("clip_norm: the global norm from the ranks' shares clips as one process does") {
        o.clip_norm = 0.05;  // below the gradients' norm here: clipping changes the result
        {
            auto clipped = dense_ae<double>(), free = dense_ae<double>();
            latent::Adam<double> a1(1e-2), a2(1e-2);
            latent::fit(clipped, a1, x, o);
            auto fo = o;
            fo.clip_norm = 0;
            latent::fit(free, a2, x, fo);
            REQUIRE(max_abs_diff(clipped.params().values(), free.params().values()) > 1e-4);
        }
        CHECK(distributed_vs_single<double>(dense_ae<double>, x, o, 1e-12) < 1e-12);
        o.clip_norm = 1e6;  // never clips
        CHECK(distributed_vs_single<double>(dense_ae<double>, x, o, 1e-12) < 1e-12);
    }
    SECTION("training continues from the gathered optimizer state as one process does") {
        auto& comm = world();
        auto single = dense_ae<double>(), replica = dense_ae<double>();
        latent::Adam<double> a1(1e-2), a2(1e-2);
        latent::fit(single, a1, x, o);
        latent::fit(single, a1, x, o);
        auto ro = o;
        ro.replicas = &comm;
        latent::fit(replica, a2, x, ro);
        latent::fit(replica, a2, x, ro);
        CHECK(max_abs_diff(single.params().values(), replica.params().values()) < 1e-12);
        CHECK(max_state_diff<double>(a1, a2) < 1e-12);
    }
}

TEST_CASE("The gradient exchange: shares, reduce-scatter and all-gather", "[mpi]") {
    auto& comm = world();
    const int r = comm.rank();
    for (Index n : {Index{0}, Index{5}, Index{16}, Index{33}, Index{1000}}) {
        INFO("n = " << n);
        CHECK(comm.shard_begin(n, 0) == 0);
        CHECK(comm.shard_begin(n, 2) == n);
        CHECK(comm.shard_begin(n, 1) % 16 == 0);
        CHECK(comm.shard_begin(n, 1) <= n);
        latent::Vector<double> v(n);
        for (Index i = 0; i < n; ++i) v(i) = static_cast<double>(i) + 1000.0 * r;
        comm.reduce_scatter(v.data(), n, 0.5);
        for (Index i = comm.shard_begin(n, r); i < comm.shard_begin(n, r + 1); ++i) CHECK(v(i) == static_cast<double>(i) + 500.0);
        latent::Vector<float> w(n);
        for (Index i = 0; i < n; ++i) w(i) = i >= comm.shard_begin(n, r) && i < comm.shard_begin(n, r + 1) ? static_cast<float>(i) : -1.f;
        comm.all_gather(w.data(), n);
        for (Index i = 0; i < n; ++i) CHECK(w(i) == static_cast<float>(i));
    }
}

TEST_CASE("Every Trainable trains data-parallel: convolutional, sequence, VAE, BatchNorm", "[mpi]") {
    const bool shared = GENERATE(true, false);
    world().set_shared_memory(shared);
    INFO("shared memory " << shared);
    latent::FitOptions<double> o;
    o.epochs = 2;
    o.batch_size = 10;
    o.seed = 2;
    o.progress = false;
    latent::Rng drng(4);

    SECTION("convolutional autoencoder: equal to one process") {
        Matrix<double> x(64, 45);
        drng.fill_uniform(x);
        auto make = [] {
            auto enc = std::make_unique<latent::Sequential<double>>();
            enc->add<latent::Conv2D<double>>(3, latent::Size2(3), latent::ConvOptions::padded(1, 2)).add<latent::Activation<double>>(latent::Act::tanh);
            auto dec = std::make_unique<latent::Sequential<double>>();
            dec->add<latent::ConvTranspose2D<double>>(1, latent::Size2(4), latent::ConvOptions::padded(1, 2));
            latent::Autoencoder<double> ae(std::move(enc), std::move(dec));
            latent::Rng rng(6);
            ae.build(latent::Shape{1, 8, 8}, rng);
            return ae;
        };
        CHECK(distributed_vs_single<double>(make, x, o, 1e-12) < 1e-12);
    }
    SECTION("sequence autoencoder (LSTM): equal to one process") {
        Matrix<double> x(5 * 3, 33);
        drng.fill_normal(x);
        auto make = [] {
            latent::SequenceAutoencoderOptions so;
            so.steps = 5;
            so.features = 3;
            so.encoder_units = {4};
            latent::Rng rng(8);
            return latent::SequenceAutoencoder<double>(so, rng);
        };
        CHECK(distributed_vs_single<double>(make, x, o, 1e-12) < 1e-12);
    }
    SECTION("VAE: replicas stay in sync (its sampling noise differs from one process's)") {
        Matrix<double> x(10, 41);
        drng.fill_uniform(x);
        latent::Rng rng(1);
        auto vae = latent::make_dense_vae<double>({10, 8, 2}, rng);
        latent::Adam<double> adam(1e-2);
        o.replicas = &world();
        const auto h = latent::fit(vae, adam, x, o);
        CHECK(latent::mpi::max_param_divergence(vae.params(), world()) == 0.0);
        CHECK(std::isfinite(h.epochs.back().loss));
        CHECK(h.epochs.back().parts.size() == 2);  // recon and kl, reduced
    }
    SECTION("BatchNorm: local statistics, running statistics averaged per epoch") {
        Matrix<double> x(6, 40);
        drng.fill_normal(x);
        auto enc = std::make_unique<latent::Sequential<double>>();
        enc->add<latent::Dense<double>>(4).add<latent::BatchNorm<double>>().add<latent::Activation<double>>(latent::Act::tanh);
        auto dec = std::make_unique<latent::Sequential<double>>();
        dec->add<latent::Dense<double>>(6);
        latent::Autoencoder<double> ae(std::move(enc), std::move(dec));
        latent::Rng rng(2);
        ae.build(latent::Shape{6}, rng);
        latent::Adam<double> adam(1e-2);
        o.replicas = &world();
        latent::fit(ae, adam, x, o);
        CHECK(latent::mpi::max_param_divergence(ae.params(), world()) == 0.0);  // running statistics included
    }
}

TEST_CASE("Streaming and data-parallel: each rank reads its share of a memory-mapped file", "[mpi]") {
    world().set_shared_memory(true);
    auto& comm = world();
    namespace fs = std::filesystem;
    // One file for both ranks, written by rank 0 (its name from rank 0's pid).
    long long id = static_cast<long long>(::getpid());
    double idd = static_cast<double>(id);
    comm.broadcast(&idd, 1);
    const std::string path = (fs::temp_directory_path() / ("latent_test_mpi_" + std::to_string(static_cast<long long>(idd)) + ".npy")).string();
    latent::Rng drng(12);
    Matrix<float> x(16, 90);
    drng.fill_uniform(x);
    if (comm.rank() == 0) {
        std::string bytes = latent_test::npy_file("<f4", "(90, 16)", "");
        bytes.append(reinterpret_cast<const char*>(x.data()), sizeof(float) * static_cast<std::size_t>(x.size()));
        latent::detail::write_file_atomic(path, bytes);
    }
    comm.barrier();
    {
        latent::NpySource<float> file(path, {8, 2, true});
        latent::FitOptions<float> o;
        o.epochs = 2;
        o.batch_size = 16;
        o.shuffle = false;  // the file's order: comparable with one process on the matrix
        o.progress = false;
        auto a = dense_ae<float>(), b = dense_ae<float>();
        latent::Adam<float> adam_a(1e-2), adam_b(1e-2);
        latent::fit(a, adam_a, x, o);
        o.replicas = &comm;
        latent::fit(b, adam_b, file, o);
        CHECK(latent::mpi::max_param_divergence(b.params(), comm) == 0.0);
        CHECK(max_abs_diff(a.params().values(), b.params().values()) < 1e-5);
    }
    comm.barrier();
    if (comm.rank() == 0) fs::remove(path);
}

TEST_CASE("A rank whose loss is not finite stops every rank", "[mpi]") {
    world().set_shared_memory(true);
    auto& comm = world();
    Matrix<float> x(16, 40);
    latent::Rng drng(3);
    drng.fill_uniform(x);
    auto ae = dense_ae<float>();
    latent::Adam<float> adam(1e-2);
    latent::FitOptions<float> o;
    o.epochs = 3;
    o.batch_size = 20;
    o.progress = false;
    o.replicas = &comm;
    o.on_nan = latent::OnNaN::stop;
    const int rank = comm.rank();
    long calls = 0;
    // Only rank 1's third batch goes bad; rank 0 must stop at the same step (or it would wait forever).
    o.input_transform = [rank, &calls](Matrix<float>& b, latent::Rng&) {
        if (rank == 1 && ++calls == 3) b(0, 0) = std::numeric_limits<float>::quiet_NaN();
    };
    const auto h = latent::fit(ae, adam, x, o);
    CHECK(latent_test::contains(h.stop_reason, "epoch 2, batch 1"));
    CHECK(h.epochs.size() == 1);
    CHECK(latent::mpi::max_param_divergence(ae.params(), comm) == 0.0);
}
