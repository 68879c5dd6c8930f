// The model file reader (io/model_file.hpp and the sequence model loaders).
// The first byte picks a mode: even = the bytes as they are (the magic,
// version, size and checksum checks); odd = re-sealed, i.e. the size field
// and the FNV-1a checksum are rewritten to match, so mutations reach the
// architecture and parameter-table parsers that a checksum would otherwise
// shield. The seeds in fuzz/corpus/model_file/ are valid files with a
// leading mode byte.
#include "fuzz_common.hpp"

#include <latent/latent.hpp>

namespace {

std::string reseal(std::string b) {
    if (b.size() < 20 + 8) return b;
    b.resize(b.size() - 8);
    const std::uint64_t size = b.size() + 8;
    for (int i = 0; i < 8; ++i) b[12 + static_cast<std::size_t>(i)] = static_cast<char>(size >> (8 * i));
    const std::uint64_t sum = latent::detail::fnv1a(b.data(), b.size());
    for (int i = 0; i < 8; ++i) b += static_cast<char>(sum >> (8 * i));
    return b;
}

template <class S>
void load_every_way(const std::string& b) {
    using latent_fuzz::expect_ok_or_error;
    const auto& f = latent::LayerFactory<S>::builtin();
    expect_ok_or_error([&] { (void)latent::network_from_bytes<S>(b, f); });
    expect_ok_or_error([&] { (void)latent::autoencoder_from_bytes<S>(b, f); });
    expect_ok_or_error([&] { (void)latent::vae_from_bytes<S>(b, f); });
    expect_ok_or_error([&] { (void)latent::sequence_autoencoder_from_bytes<S>(b); });
    expect_ok_or_error([&] { (void)latent::seq2seq_from_bytes<S>(b); });
    latent::LoadOptions convert;  // a file of the other scalar type, converted
    convert.convert_scalar = true;
    expect_ok_or_error([&] { (void)latent::network_from_bytes<S>(b, f, "memory", convert); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    std::string b = latent_fuzz::bytes(data + 1, size - 1);
    if (data[0] & 1) b = reseal(std::move(b));
    load_every_way<float>(b);
    load_every_way<double>(b);
    return 0;
}
