// libFuzzer target for the safetensors reader (io/safetensors.hpp): any
// bytes either parse (then load into a small fixed model, or fail with a
// FormatError), or throw latent::Error. The metadata's architecture is
// parsed but not built (a fuzzed layer size could ask for any memory).
#include <cstddef>
#include <cstdint>
#include <string>

#include <latent/io/safetensors.hpp>

namespace {

latent::Network<float>& model() {
    static latent::Network<float> net = [] {
        auto seq = std::make_unique<latent::Sequential<float>>();
        seq->add<latent::Dense<float>>(2).add<latent::BatchNorm<float>>().add<latent::Activation<float>>(latent::Act::relu);
        latent::Network<float> n(std::move(seq));
        latent::Rng rng(0);
        n.build(latent::Shape{3}, rng);
        return n;
    }();
    return net;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const auto f = latent::SafetensorsFile::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
        for (const auto& t : f.tensors())
            if (f.values<double>(t).size() != static_cast<std::size_t>(t.numel())) __builtin_trap();
        latent::SafetensorsOptions o;
        o.ignore_extra = (size & 1) != 0;
        try {
            latent::detail::assign_tensors(latent::detail::torch_tensors(model().root()), f, o);
        } catch (const latent::Error&) {
        }
        latent::detail::safetensors_model_header(f);
    } catch (const latent::Error&) {
    }
    return 0;
}
