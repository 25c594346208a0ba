# DIGITNET_SANITIZE=ON builds every target with AddressSanitizer and UBSan.
# LibTorch itself is not instrumented; the checks cover digitnet's own code and its
# calls into LibTorch and OpenCV.
if(DIGITNET_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    message(FATAL_ERROR "DIGITNET_SANITIZE needs GCC or Clang")
  endif()
  # vptr checks need RTTI of every polymorphic type crossing the library boundary;
  # LibTorch's are not all visible, so that one check is left out.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  # GCC's flow analysis under ASan reports std::regex/std::function internals as maybe
  # uninitialised; those are false positives in the standard headers.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
  add_link_options(-fsanitize=address,undefined)
endif()
