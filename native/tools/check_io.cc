// Round trip of the reference-written fixtures through our safetensors reader and writer.
#include <filesystem>

#include "harness.h"
#include "io/safetensors.h"

DA_CHECK("io.safetensors_roundtrip") {
  namespace fs = std::filesystem;
  for (const char* rel : {"vae/io.safetensors", "unet/io.safetensors", "scheduler/io.safetensors"}) {
    auto f = da::io::SafetensorsFile::open(ctx.path(rel));
    da::io::NamedTensors all;
    for (const auto& e : f->entries()) all.emplace_back(e.name, f->load(e.name));
    std::string tmp = (fs::temp_directory_path() / "docanon_harness_roundtrip.safetensors").string();
    da::io::write_safetensors(tmp, all, {{"origin", rel}});
    auto g = da::io::SafetensorsFile::open(tmp);
    bool same = g->entries().size() == all.size() && g->metadata().at("origin") == rel;
    for (const auto& [name, t] : all) same = same && g->has(name) && at::equal(g->load(name), t);
    ctx.expect(std::string("roundtrip ") + rel, same, std::to_string(all.size()) + " tensors");
    fs::remove(tmp);
  }
}
