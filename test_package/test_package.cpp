// The smallest useful latent program: build a dense autoencoder, train one
// step with Adam, and check the loss. Built by Conan's test_package, and by
// the CTest packaging cases (find_package after an install, add_subdirectory,
// FetchContent, pkg-config).
#include <latent/latent.hpp>

#include <cmath>
#include <cstdio>

int main() {
    latent::Rng rng(42);
    latent::DenseAutoencoderOptions opt;
    opt.sizes = {16, 8, 4};  // 16 -> 8 -> 4 -> 8 -> 16
    auto ae = latent::make_dense_autoencoder<float>(opt, rng);

    latent::Matrix<float> x(16, 32);  // features x batch: 32 samples in [0, 1]
    rng.fill_uniform(x);

    latent::Adam<float> adam(1e-3);
    latent::FitOptions<float> fit;
    fit.epochs = 1;
    fit.batch_size = 32;  // one epoch of one batch: one step
    fit.progress = false;
    fit.print_epochs = false;
    const latent::History history = latent::fit(ae, adam, x, fit);

    const double loss = history.final_loss();
    std::printf("latent %d.%d.%d: one training step, loss %.6f\n", latent::version_major, latent::version_minor,
                latent::version_patch, loss);
    return std::isfinite(loss) && loss > 0 ? 0 : 1;
}
