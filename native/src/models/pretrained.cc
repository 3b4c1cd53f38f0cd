#include "models/pretrained.h"

#include <filesystem>

#include "io/safetensors.h"

namespace da::models {

void write_pretrained(const std::string& dir, const std::string& config_json, const std::string& weights_name, const io::NamedTensors& state) {
  std::filesystem::create_directories(dir);
  io::write_safetensors(dir + "/" + weights_name + ".safetensors", state, {{"format", "pt"}});
  write_text_file(dir + "/config.json", config_json);
}

}  // namespace da::models
