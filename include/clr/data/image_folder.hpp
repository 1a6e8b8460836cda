// ImageFolder: torchvision's layout, `root/<class>/<...>/<file>.{png,jpg,jpeg,bmp}`.
//
// Classes are the folders directly under root, sorted by name, labelled 0..K-1; a class's
// files are found recursively and sorted by path, so the same tree always gives the same
// indices. Construction only lists the files; `get` reads and decodes one (stb_image), so
// decoding happens on access, in the loader's worker threads, and images may differ in size
// (the augmentation crops them to one).
#pragma once

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "clr/augment/image.hpp"
#include "clr/core/error.hpp"
#include "clr/data/bytes.hpp"
#include "clr/data/dataset.hpp"
#include "clr/data/detail/stb_guard.hpp"
#include "clr/data/detail/stb_image.hpp"

namespace clr::data {

inline constexpr std::int64_t kDefaultMaxPixels = std::int64_t{1} << 26;

// Decodes a PNG, JPEG or BMP held in memory to 1 (luma) or 3 (RGB) channels. `name` is what
// errors call the image (its path). Images over `max_pixels` are refused from their header,
// before any pixel memory is allocated.
inline augment::Image decode_image(std::span<const std::uint8_t> bytes, const std::string& name,
                                   int channels = 3, std::int64_t max_pixels = kDefaultMaxPixels) {
  require(channels == 1 || channels == 3, "decode_image: channels must be 1 or 3, got ", channels);
  require(bytes.size() <= static_cast<std::size_t>(INT_MAX), name, ": ", bytes.size(),
          " bytes, more than stb_image reads");
  detail::check_before_stb(bytes, name);  // stb 2.27's gaps: see detail/stb_guard.hpp
  const auto* data = bytes.data();
  const int size = static_cast<int>(bytes.size());
  int width = 0, height = 0, stored_channels = 0;
  if (!stbi_info_from_memory(data, size, &width, &height, &stored_channels))
    throw Error(name + ": cannot decode the image (stb_image: " + stbi_failure_reason() +
                "; PNG, JPEG and BMP are read)");
  // stb's info gives a top-down BMP a negative height, which its loader then flips.
  const std::int64_t claimed_width = std::abs(std::int64_t{width});
  const std::int64_t claimed_height = std::abs(std::int64_t{height});
  require(claimed_width * claimed_height <= max_pixels, name, ": ", claimed_width, "x",
          claimed_height, " pixels, more than the ", max_pixels, " allowed");
  struct Free {
    void operator()(stbi_uc* pixels) const { stbi_image_free(pixels); }
  };
  const std::unique_ptr<stbi_uc, Free> pixels(
      stbi_load_from_memory(data, size, &width, &height, &stored_channels, channels));
  if (!pixels)
    throw Error(name + ": cannot decode the image (stb_image: " + stbi_failure_reason() + ")");
  require(width == claimed_width && height == claimed_height, name, ": decoded as ", width, "x",
          height, " pixels after a header of ", claimed_width, "x", claimed_height);
  const std::size_t count = static_cast<std::size_t>(width) * height * channels;
  return augment::Image::from({pixels.get(), count}, height, width, channels);
}

inline augment::Image read_image(const std::filesystem::path& path, int channels = 3,
                                 std::int64_t max_pixels = kDefaultMaxPixels) {
  return decode_image(detail::read_file(path), path.string(), channels, max_pixels);
}

struct ImageFolderOptions {
  int channels = 3;  // 1: grayscale, 3: RGB, whatever the files store
  // Suffixes that count as images, compared case-insensitively; other files are skipped.
  std::vector<std::string> extensions = {".png", ".jpg", ".jpeg", ".bmp"};
  std::int64_t max_pixels = kDefaultMaxPixels;
};

class ImageFolder {
 public:
  explicit ImageFolder(const std::filesystem::path& root, ImageFolderOptions options = {})
      : options_(std::move(options)), name_("ImageFolder " + root.string()) {
    require(options_.channels == 1 || options_.channels == 3, name_,
            ": channels must be 1 or 3, got ", options_.channels);
    for (auto& extension : options_.extensions) extension = lower(extension);
    auto index = std::make_shared<Index>();
    try {
      scan(root, *index);
    } catch (const std::filesystem::filesystem_error& error) {
      throw Error(name_ + ": cannot list the files: " + error.what());
    }
    index_ = std::move(index);
  }

  std::int64_t size() const { return static_cast<std::int64_t>(index_->files.size()); }
  int num_classes() const { return static_cast<int>(index_->classes.size()); }
  const std::string& name() const { return name_; }
  const std::vector<std::string>& class_names() const { return index_->classes; }
  const std::filesystem::path& file(std::int64_t index) const {
    return index_->files[checked(index)];
  }
  int label(std::int64_t index) const { return index_->labels[checked(index)]; }

  // Reads and decodes the file now; errors name it.
  Sample get(std::int64_t index) const {
    return {read_image(file(index), options_.channels, options_.max_pixels), label(index)};
  }

 private:
  struct Index {
    std::vector<std::filesystem::path> files;
    std::vector<int> labels;
    std::vector<std::string> classes;
  };

  static std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }

  bool is_image(const std::filesystem::path& path) const {
    const std::string extension = lower(path.extension().string());
    return std::find(options_.extensions.begin(), options_.extensions.end(), extension) !=
           options_.extensions.end();
  }

  void scan(const std::filesystem::path& root, Index& index) const {
    namespace fs = std::filesystem;
    require(fs::is_directory(root), name_, ": not a directory");
    std::vector<fs::path> class_dirs;
    for (const auto& entry : fs::directory_iterator(root)) {
      // Hidden folders (.git, .ipynb_checkpoints) are tools' litter, not classes.
      if (entry.is_directory() && entry.path().filename().string().front() != '.')
        class_dirs.push_back(entry.path());
    }
    std::sort(class_dirs.begin(), class_dirs.end());
    require(!class_dirs.empty(), name_, ": no class folders (expected root/<class>/<image>)");
    for (const auto& dir : class_dirs) {
      std::vector<fs::path> files;
      // Symbolic links to folders are not followed: a link cycle must not hang the scan.
      for (const auto& entry :
           fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied))
        if (entry.is_regular_file() && is_image(entry.path())) files.push_back(entry.path());
      require(!files.empty(), name_, ": class folder ", dir.string(), " holds no image (",
              extension_list(), ")");
      std::sort(files.begin(), files.end());
      const int label = static_cast<int>(index.classes.size());
      index.classes.push_back(dir.filename().string());
      index.labels.insert(index.labels.end(), files.size(), label);
      index.files.insert(index.files.end(), std::make_move_iterator(files.begin()),
                         std::make_move_iterator(files.end()));
    }
  }

  std::string extension_list() const {
    std::string list;
    for (const auto& extension : options_.extensions) list += (list.empty() ? "" : " ") + extension;
    return list;
  }

  std::size_t checked(std::int64_t index) const {
    require(index >= 0 && index < size(), name_, ": index ", index, " out of range [0, ", size(),
            ")");
    return static_cast<std::size_t>(index);
  }

  ImageFolderOptions options_;
  std::string name_;
  std::shared_ptr<const Index> index_;
};

static_assert(Dataset<ImageFolder>);

}  // namespace clr::data
