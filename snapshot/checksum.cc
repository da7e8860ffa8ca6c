#include "snapshot/checksum.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>

namespace zktool::snapshot {

uint32_t adler32_update(uint32_t running, std::string_view bytes) {
  return isal_adler32(running, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

uint32_t crc32_update(uint32_t running, std::string_view bytes) {
  return crc32_gzip_refl(running, reinterpret_cast<const unsigned char*>(bytes.data()),
                         bytes.size());
}

}  // namespace zktool::snapshot
