// BatchNorm: PyTorch golden values (train step, running statistics, eval),
// gradient checks in train and infer mode, running statistics untouched by
// the optimizers and saved with the model.
#include "conv_support.hpp"
#include "golden/conv_golden_values.hpp"

using conv_test::fill;
using conv_test::MatD;
using latent::BatchNorm;
using latent::Index;
using latent::Shape;

namespace {

void check_golden(Shape in, Index batch, const std::vector<double>& y, const std::vector<double>& dx, const std::vector<double>& dw,
                  const std::vector<double>& db, const std::vector<double>& rm, const std::vector<double>& rv,
                  const std::vector<double>& y_eval) {
    BatchNorm<double> bn;
    conv_test::Standalone s(bn, in);
    const Index c = in.c;
    CHECK(bn.running_mean().isZero());
    CHECK(bn.running_var().isOnes());
    conv_test::copy_into(bn.weight(), (1.0 + 0.5 * fill(c, 1, 0.9, 0.4).array()).matrix());
    conv_test::copy_into(bn.bias(), fill(c, 1, 1.3, 0.5));
    const MatD x = (2.0 * fill(in.size(), batch, 0.37, 0.1).array() + 0.5).matrix();
    bn.set_input_grad(true);
    const MatD& out = bn.forward(x, latent::Mode::train);
    CHECK(conv_test::max_abs_diff(out, y) < 1e-12);
    s.params.zero_grad();
    const MatD& d = bn.backward(fill(out.rows(), out.cols(), 0.7, 0.3));
    CHECK(conv_test::max_abs_diff(d, dx) < 1e-12);
    const auto views = bn.parameters();
    REQUIRE(views.size() == 4);
    CHECK(views[0].name == "weight");
    CHECK(views[1].name == "bias");
    CHECK(views[2].name == "running_mean");
    CHECK(views[3].name == "running_var");
    CHECK(conv_test::max_abs_diff(views[0].grad, dw) < 1e-12);
    CHECK(conv_test::max_abs_diff(views[1].grad, db) < 1e-12);
    CHECK(views[2].grad.isZero());
    CHECK(views[3].grad.isZero());
    CHECK(conv_test::max_abs_diff(bn.running_mean(), rm) < 1e-12);
    CHECK(conv_test::max_abs_diff(bn.running_var(), rv) < 1e-12);
    CHECK(conv_test::max_abs_diff(bn.forward(x, latent::Mode::infer), y_eval) < 1e-12);
}

}  // namespace

TEST_CASE("BatchNorm matches PyTorch BatchNorm2d: train step, running statistics, eval", "[batchnorm][golden]") {
    check_golden(Shape{2, 3, 4}, 3, golden::bn2d_y, golden::bn2d_dx, golden::bn2d_dw, golden::bn2d_db, golden::bn2d_running_mean,
                 golden::bn2d_running_var, golden::bn2d_y_eval);
}

TEST_CASE("BatchNorm matches PyTorch BatchNorm1d on flat features", "[batchnorm][golden]") {
    check_golden(Shape{4}, 5, golden::bn1d_y, golden::bn1d_dx, golden::bn1d_dw, golden::bn1d_db, golden::bn1d_running_mean,
                 golden::bn1d_running_var, golden::bn1d_y_eval);
}

TEST_CASE("BatchNorm gradients in train mode (batch statistics) and infer mode", "[batchnorm][gradcheck]") {
    for (Shape in : {Shape{3, 5, 3}, Shape{7}, Shape{2, 1, 1}})
        for (latent::Mode mode : {latent::Mode::train, latent::Mode::infer})
            for (bool affine : {true, false}) {
                BatchNorm<double> bn(0.1, 1e-5, affine);
                conv_test::Standalone s(bn, in, 21);
                if (affine) {
                    {
                    auto v = bn.weight();
                    s.rng.fill_uniform(v, 0.5, 1.5);
                }
                    {
                    auto v = bn.bias();
                    s.rng.fill_uniform(v, -0.5, 0.5);
                }
                }
                {
                    auto v = bn.running_mean();
                    s.rng.fill_uniform(v, -0.2, 0.2);
                }
                {
                    auto v = bn.running_var();
                    s.rng.fill_uniform(v, 0.5, 2.0);
                }
                MatD x(in.size(), 4);
                s.rng.fill_normal(x, 0.3, 1.5);
                INFO("input " << in.str() << (mode == latent::Mode::train ? " train" : " infer") << " affine " << affine);
                CONV_CHECK_GRADIENT(latent::testing::check_layer(bn, s.params, x, s.rng, mode));
            }
}

TEST_CASE("BatchNorm gradients with more than 100 values per channel", "[batchnorm][gradcheck]") {
    BatchNorm<double> bn;
    conv_test::Standalone s(bn, Shape{2, 8, 7}, 5);
    {
                    auto v = bn.weight();
                    s.rng.fill_uniform(v, 0.5, 1.5);
                }
    MatD x(112, 2);
    s.rng.fill_normal(x);
    CONV_CHECK_GRADIENT(latent::testing::check_layer(bn, s.params, x, s.rng));
}

TEST_CASE("BatchNorm running statistics: momentum update, untouched by optimizers, saved with the model", "[batchnorm][io]") {
    auto enc = std::make_unique<latent::Sequential<double>>();
    enc->add<latent::Conv2D<double>>(3, 3, latent::ConvOptions::same())
        .add<BatchNorm<double>>()
        .add<latent::Activation<double>>(latent::Act::relu)
        .add<latent::Flatten<double>>()
        .add<latent::Dense<double>>(4)
        .add<BatchNorm<double>>(0.2);
    auto dec = std::make_unique<latent::Sequential<double>>();
    dec->add<latent::Dense<double>>(36).add<latent::Reshape<double>>(Shape{1, 6, 6});
    latent::Autoencoder<double> ae(std::move(enc), std::move(dec));
    latent::Rng rng(4);
    ae.build(Shape{1, 6, 6}, rng);
    auto& bn = dynamic_cast<BatchNorm<double>&>(dynamic_cast<latent::Sequential<double>&>(ae.encoder())[1]);

    MatD x(36, 16);
    rng.fill_uniform(x);
    // One train-mode forward moves the running statistics by momentum 0.1.
    ae.params().zero_grad();
    ae.train_batch(x, x, nullptr);
    const MatD rm = bn.running_mean(), rv = bn.running_var();
    CHECK(!rm.isZero());
    CHECK(!rv.isOnes());
    // Their gradients are zero, and Adam (with weight decay), AdamW and SGD
    // with momentum leave them exactly as the forward pass set them.
    std::vector<std::unique_ptr<latent::Optimizer<double>>> opts;
    latent::AdamOptions adam_o;
    adam_o.lr = 0.01;
    adam_o.weight_decay = 0.1;
    latent::AdamWOptions adamw_o;
    adamw_o.lr = 0.01;
    adamw_o.weight_decay = 0.1;
    latent::SGDOptions sgd_o;
    sgd_o.lr = 0.01;
    sgd_o.momentum = 0.9;
    opts.push_back(std::make_unique<latent::Adam<double>>(adam_o));
    opts.push_back(std::make_unique<latent::AdamW<double>>(adamw_o));
    opts.push_back(std::make_unique<latent::SGD<double>>(sgd_o));
    for (auto& opt : opts) {
        const latent::Vector<double> before = ae.params().values();
        opt->step(ae.params());
        CHECK(bn.running_mean() == rm);
        CHECK(bn.running_var() == rv);
        CHECK(ae.params().values() != before);  // the trainable weights did move
    }
    const auto views = ae.parameters();
    bool found = false;
    for (const auto& v : views)
        if (v.name == "encoder.1.running_var") {
            found = true;
            CHECK(!v.decay);
            CHECK(v.grad.isZero());
        }
    CHECK(found);

    // fit() trains; infer mode then uses the running statistics.
    latent::Adam<double> adam(1e-3);
    latent::FitOptions<double> fo;
    fo.epochs = 2;
    fo.batch_size = 8;
    fo.progress = false;
    fo.print_epochs = false;
    latent::fit(ae, adam, x, fo);
    const MatD before = ae.reconstruct(x);
    CHECK((ae.reconstruct(x) - before).cwiseAbs().maxCoeff() == 0.0);  // infer mode does not move them

    // A model file round-trips the running statistics.
    const std::string path = "test_batchnorm_model.lat";
    latent::save(ae, path);
    auto loaded = latent::load_autoencoder<double>(path);
    std::remove(path.c_str());
    auto& bn2 = dynamic_cast<BatchNorm<double>&>(dynamic_cast<latent::Sequential<double>&>(loaded.encoder())[1]);
    CHECK(bn2.running_mean() == bn.running_mean());
    CHECK(bn2.running_var() == bn.running_var());
    CHECK((loaded.reconstruct(x) - before).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("BatchNorm errors and config", "[batchnorm][errors]") {
    CHECK_THROWS_AS(BatchNorm<double>(1.5), latent::ConfigError);
    CHECK_THROWS_AS(BatchNorm<double>(0.1, 0.0), latent::ConfigError);
    BatchNorm<double> bn;
    conv_test::Standalone s(bn, Shape{3});
    CHECK_THROWS_AS(bn.forward(MatD::Ones(3, 1), latent::Mode::train), latent::DataError);  // one value per channel
    CHECK_NOTHROW(bn.forward(MatD::Ones(3, 1), latent::Mode::infer));
    BatchNorm<double> b2(0.05, 1e-3, false);
    const auto copy = latent::LayerFactory<double>::builtin().make(b2.config());
    CHECK(copy->config() == b2.config());
}
