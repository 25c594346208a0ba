# Finds LibTorch (any official 1.13 or 2.x through CMAKE_PREFIX_PATH, or Debian's),
# zlib (optional: without it only uncompressed IDX files are read), cxxopts (the
# system package, or the copy in third_party/), GoogleTest and OpenCV.

find_package(Torch REQUIRED)
find_package(Threads REQUIRED)

find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  message(STATUS "digitnet: zlib not found, .gz IDX files will not be read")
endif()

find_package(cxxopts CONFIG QUIET)
if(NOT TARGET cxxopts::cxxopts)
  message(STATUS "digitnet: using the bundled cxxopts header (third_party/cxxopts)")
  add_library(cxxopts INTERFACE)
  target_include_directories(cxxopts SYSTEM INTERFACE "${PROJECT_SOURCE_DIR}/third_party/cxxopts")
  add_library(cxxopts::cxxopts ALIAS cxxopts)
endif()

set(DIGITNET_HAVE_OPENCV OFF)
if(NOT DIGITNET_WITH_OPENCV STREQUAL "OFF")
  set(_cv_components core imgproc imgcodecs videoio highgui)
  if(DIGITNET_WITH_OPENCV STREQUAL "ON")
    find_package(OpenCV REQUIRED COMPONENTS ${_cv_components})
  else()
    find_package(OpenCV QUIET COMPONENTS ${_cv_components})
  endif()
  if(OpenCV_FOUND)
    set(DIGITNET_HAVE_OPENCV ON)
    # TrueType fonts for the captcha renderer come through the contrib module `freetype`
    # (libopencv-contrib-dev). A second find_package adds its target to OpenCV_LIBS.
    find_package(OpenCV QUIET COMPONENTS freetype)
    if(OpenCV_freetype_FOUND AND TARGET opencv_freetype)
      set(DIGITNET_HAVE_FREETYPE ON)
      list(APPEND OpenCV_LIBS opencv_freetype)
      list(REMOVE_DUPLICATES OpenCV_LIBS)
    else()
      set(DIGITNET_HAVE_FREETYPE OFF)
      message(STATUS "digitnet: OpenCV freetype module not found, captchas use Hershey faces only "
                     "(install libopencv-contrib-dev)")
    endif()
    set(OpenCV_FOUND ON)
  endif()
endif()
if(DIGITNET_HAVE_OPENCV)
  set(DIGITNET_HAVE_OPENCV_TEXT "${OpenCV_VERSION} (freetype ${DIGITNET_HAVE_FREETYPE})")
else()
  set(DIGITNET_HAVE_OPENCV_TEXT "not used (vision/ and the reading apps are skipped)")
endif()

if(DIGITNET_BUILD_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    message(STATUS "digitnet: GoogleTest not found, tests are skipped")
    set(DIGITNET_BUILD_TESTS OFF)
  endif()
endif()
