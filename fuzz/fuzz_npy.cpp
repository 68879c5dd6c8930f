// libFuzzer target for the .npy reader (data/npy.hpp): any bytes either parse
// into an array whose size matches its data, or throw latent::Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include <latent/data/npy.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const latent::NpyArray a = latent::parse_npy(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
        const latent::Matrix<float> m = a.batch<float>();
        if (m.size() != a.size()) __builtin_trap();
    } catch (const latent::Error&) {
    }
    return 0;
}
