// Map operations on a descriptor. Sizes come from the caller (native.ts checks them against the map's info before
// calling), so a call never hands the kernel a buffer shorter than it will read or write.
#include "map_ops.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "errors.h"
#include "js_util.h"

namespace moat {

namespace {

constexpr int kENOTSUPP = 524;

bool IsUnsupported(int err) { return err == kENOTSUPP || err == EOPNOTSUPP; }

std::string FdSubject(int fd) { return "fd " + std::to_string(fd); }

void RequireLength(const Napi::CallbackInfo& info, size_t actual, size_t expected, const char* what) {
  if (actual != expected) {
    throw Napi::RangeError::New(info.Env(), std::string(what) + " is " + std::to_string(actual) + " bytes, expected " +
                                                std::to_string(expected));
  }
}

Napi::Value MapInfo(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "map fd");
  return Guarded(info.Env(), [&]() {
    bpf_map_info mapInfo{};
    uint32_t length = sizeof(mapInfo);
    int rc = bpf_obj_get_info_by_fd(fd, &mapInfo, &length);
    if (rc != 0) throw SysError("bpf_obj_get_info_by_fd", ErrnoFromResult(rc), "map " + FdSubject(fd));
    Napi::Object result = Napi::Object::New(info.Env());
    result.Set("id", mapInfo.id);
    result.Set("type", mapInfo.type);
    result.Set("keySize", mapInfo.key_size);
    result.Set("valueSize", mapInfo.value_size);
    result.Set("maxEntries", mapInfo.max_entries);
    result.Set("flags", mapInfo.map_flags);
    result.Set("name", mapInfo.name);
    return result;
  });
}

Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "map fd");
  Napi::Buffer<uint8_t> key = BufferArg(info, 1, "key");
  uint32_t valueBytes = U32Arg(info, 2, "value size");
  return Guarded(info.Env(), [&]() -> Napi::Value {
    std::vector<uint8_t> value(valueBytes);
    int rc = bpf_map_lookup_elem(fd, key.Data(), value.data());
    if (rc != 0) {
      int err = ErrnoFromResult(rc);
      if (err == ENOENT) return info.Env().Null();
      throw SysError("bpf_map_lookup_elem", err, FdSubject(fd));
    }
    return CopyToBuffer(info.Env(), value.data(), value.size());
  });
}

Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "map fd");
  Napi::Buffer<uint8_t> key = BufferArg(info, 1, "key");
  Napi::Buffer<uint8_t> value = BufferArg(info, 2, "value");
  uint32_t flags = U32Arg(info, 3, "flags");
  return Guarded(info.Env(), [&]() {
    int rc = bpf_map_update_elem(fd, key.Data(), value.Data(), flags);
    if (rc != 0) throw SysError("bpf_map_update_elem", ErrnoFromResult(rc), FdSubject(fd));
    return info.Env().Undefined();
  });
}

Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "map fd");
  Napi::Buffer<uint8_t> key = BufferArg(info, 1, "key");
  return Guarded(info.Env(), [&]() {
    int rc = bpf_map_delete_elem(fd, key.Data());
    if (rc == 0) return Napi::Boolean::New(info.Env(), true);
    int err = ErrnoFromResult(rc);
    if (err == ENOENT) return Napi::Boolean::New(info.Env(), false);
    throw SysError("bpf_map_delete_elem", err, FdSubject(fd));
  });
}

// get_next_key restarts from the first key when the previous one vanished, so a map that churns while we walk
// could loop; limit bounds the walk (the caller passes a multiple of max_entries).
Napi::Value MapKeys(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "map fd");
  uint32_t keySize = U32Arg(info, 1, "key size");
  uint32_t limit = U32Arg(info, 2, "limit");
  return Guarded(info.Env(), [&]() {
    Napi::Array keys = Napi::Array::New(info.Env());
    std::vector<uint8_t> previous(keySize), next(keySize);
    bool first = true;
    for (uint32_t walked = 0; walked < limit; ++walked) {
      int rc = bpf_map_get_next_key(fd, first ? nullptr : previous.data(), next.data());
      if (rc != 0) {
        int err = ErrnoFromResult(rc);
        if (err == ENOENT) break;
        throw SysError("bpf_map_get_next_key", err, FdSubject(fd));
      }
      keys.Set(keys.Length(), CopyToBuffer(info.Env(), next.data(), keySize));
      previous.swap(next);
      first = false;
    }
    return keys;
  });
}

// Returns {keys, values, count} with entries packed back to back, or null when the map type has no batch lookup.
Napi::Value MapLookupBatch(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "map fd");
  uint32_t keySize = U32Arg(info, 1, "key size");
  uint32_t valueBytes = U32Arg(info, 2, "value size");
  uint32_t chunk = std::max<uint32_t>(U32Arg(info, 3, "chunk"), 1);
  return Guarded(info.Env(), [&]() -> Napi::Value {
    // Array maps write the resume token with key_size bytes, hash maps with 4: size it for both.
    size_t tokenSize = std::max<size_t>(keySize, sizeof(uint64_t));
    std::vector<uint8_t> inBatch(tokenSize), outBatch(tokenSize), keys, values;
    size_t total = 0;
    bool first = true;
    DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
    for (;;) {
      keys.resize((total + chunk) * keySize);
      values.resize((total + chunk) * valueBytes);
      uint32_t count = chunk;
      int rc = bpf_map_lookup_batch(fd, first ? nullptr : inBatch.data(), outBatch.data(), keys.data() + total * keySize,
                                    values.data() + total * valueBytes, &count, &opts);
      int err = rc == 0 ? 0 : ErrnoFromResult(rc);
      if (err != 0 && err != ENOENT) {
        if (first && IsUnsupported(err)) return info.Env().Null();
        // A hash bucket holds more entries than fit in one chunk: retry the same position with room for it.
        if (err == ENOSPC && count == 0 && chunk < (1u << 24)) {
          chunk *= 2;
          continue;
        }
        throw SysError("bpf_map_lookup_batch", err, FdSubject(fd));
      }
      total += count;
      if (err == ENOENT) break;
      inBatch.swap(outBatch);
      first = false;
    }
    Napi::Object result = Napi::Object::New(info.Env());
    result.Set("keys", CopyToBuffer(info.Env(), keys.data(), total * keySize));
    result.Set("values", CopyToBuffer(info.Env(), values.data(), total * valueBytes));
    result.Set("count", static_cast<double>(total));
    return result;
  });
}

// keys and values are packed back to back; returns false when the map type has no batch update.
Napi::Value MapUpdateBatch(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "map fd");
  Napi::Buffer<uint8_t> keys = BufferArg(info, 1, "keys");
  Napi::Buffer<uint8_t> values = BufferArg(info, 2, "values");
  uint32_t count = U32Arg(info, 3, "count");
  uint32_t flags = U32Arg(info, 4, "flags");
  return Guarded(info.Env(), [&]() {
    if (count == 0) return Napi::Boolean::New(info.Env(), true);
    DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = flags);
    uint32_t done = count;
    int rc = bpf_map_update_batch(fd, keys.Data(), values.Data(), &done, &opts);
    if (rc == 0) return Napi::Boolean::New(info.Env(), true);
    int err = ErrnoFromResult(rc);
    if (done == 0 && IsUnsupported(err)) return Napi::Boolean::New(info.Env(), false);
    throw SysError("bpf_map_update_batch", err,
                   FdSubject(fd) + " (" + std::to_string(done) + " of " + std::to_string(count) + " entries written)");
  });
}

// Deletes the keys that exist; returns how many were deleted, or null when the map type has no batch delete.
Napi::Value MapDeleteBatch(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "map fd");
  Napi::Buffer<uint8_t> keys = BufferArg(info, 1, "keys");
  uint32_t count = U32Arg(info, 2, "count");
  uint32_t keySize = U32Arg(info, 3, "key size");
  RequireLength(info, keys.Length(), static_cast<size_t>(count) * keySize, "keys");
  return Guarded(info.Env(), [&]() -> Napi::Value {
    DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
    uint32_t position = 0, deleted = 0;
    while (position < count) {
      uint32_t done = count - position;
      int rc = bpf_map_delete_batch(fd, keys.Data() + static_cast<size_t>(position) * keySize, &done, &opts);
      deleted += done;
      position += done;
      if (rc == 0) break;
      int err = ErrnoFromResult(rc);
      if (deleted == 0 && position == 0 && IsUnsupported(err)) return info.Env().Null();
      // The kernel stops at a key that is absent: step over it and go on with the rest.
      if (err != ENOENT) throw SysError("bpf_map_delete_batch", err, FdSubject(fd));
      position += 1;
    }
    return Napi::Number::New(info.Env(), deleted);
  });
}

Napi::Value ObjPin(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "fd");
  std::string path = StringArg(info, 1, "pin path");
  return Guarded(info.Env(), [&]() {
    int rc = bpf_obj_pin(fd, path.c_str());
    if (rc != 0) throw SysError("bpf_obj_pin", ErrnoFromResult(rc), FdSubject(fd) + " at " + path);
    return info.Env().Undefined();
  });
}

Napi::Value ObjGet(const Napi::CallbackInfo& info) {
  std::string path = StringArg(info, 0, "pin path");
  return Guarded(info.Env(), [&]() {
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) throw SysError("bpf_obj_get", ErrnoFromResult(fd), "pin " + path);
    return Napi::Number::New(info.Env(), fd);
  });
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "fd");
  return Guarded(info.Env(), [&]() {
    if (close(fd) != 0 && errno != EINTR) throw SysError("close", errno, FdSubject(fd));
    return info.Env().Undefined();
  });
}

Napi::Value PossibleCpus(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&]() {
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) throw SysError("libbpf_num_possible_cpus", ErrnoFromResult(cpus), "/sys/devices/system/cpu/possible");
    return Napi::Number::New(info.Env(), cpus);
  });
}

}  // namespace

void InitMapOps(Napi::Env env, Napi::Object exports) {
  exports.Set("mapInfo", Napi::Function::New(env, MapInfo));
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete));
  exports.Set("mapKeys", Napi::Function::New(env, MapKeys));
  exports.Set("mapLookupBatch", Napi::Function::New(env, MapLookupBatch));
  exports.Set("mapUpdateBatch", Napi::Function::New(env, MapUpdateBatch));
  exports.Set("mapDeleteBatch", Napi::Function::New(env, MapDeleteBatch));
  exports.Set("objPin", Napi::Function::New(env, ObjPin));
  exports.Set("objGet", Napi::Function::New(env, ObjGet));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("possibleCpus", Napi::Function::New(env, PossibleCpus));
}

}  // namespace moat
