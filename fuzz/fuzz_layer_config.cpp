// Layer configurations (LayerConfig -> LayerFactory -> build -> forward):
// the architecture half of a model file without the file around it. The
// bytes are an input shape (3 x u8) and a binary LayerConfig tree as in the
// model file; a model that builds runs one forward and backward pass on a
// small batch. Parameter memory is capped, as a model file caps it.
#include "fuzz_common.hpp"

#include <latent/latent.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    const latent::Shape input{data[0] % 17, data[1] % 17 + 1, data[2] % 17 + 1};
    const std::string b = latent_fuzz::bytes(data + 3, size - 3);
    latent_fuzz::expect_ok_or_error([&] {
        latent::detail::ByteReader r(b, "layer config");
        const latent::LayerConfig c = latent::detail::read_config(r);
        latent::Network<float> net(latent::LayerFactory<float>::builtin().make(c));
        const latent::detail::ParamBudget budget(std::int64_t{1} << 20, "fuzzed layer config");
        latent::Rng rng(1);
        net.build(input, rng);
        if (net.output_shape().size() > (1 << 16)) return;
        latent::Matrix<float> x = latent::Matrix<float>::Constant(input.size(), 2, 0.5f);
        const latent::Matrix<float> y = net.forward(x, latent::Mode::train);
        net.root().set_input_grad(true);
        (void)net.backward(latent::Matrix<float>::Ones(y.rows(), y.cols()));
        (void)net.predict(x, 1);
    });
    return 0;
}
