# Turns the console's static files into a C source file of byte arrays,
# at build time (cmake -P), so `ward serve` needs no files beside it and
# nothing is built at run time. Only CMake itself: no xxd.
#   cmake -DOUT=file.c -DNAMES="a;b" -DDIR=web -P embed_assets.cmake
set(body "/* Generated from web/ by cmake/embed_assets.cmake: do not edit. */\n")
string(APPEND body "#include \"console_internal.h\"\n\n")
set(table "")
set(i 0)
foreach(name IN LISTS NAMES)
  file(READ "${DIR}/${name}" hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  # Every byte as 0xNN, sixteen to a line.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x..,){16})" "\\1\n    " bytes "${bytes}")
  string(APPEND body "static const unsigned char asset_${i}[] = {\n    ${bytes}0x00};\n\n")
  string(APPEND table "    {\"${name}\", asset_${i}, ${len}},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "const console_asset ward_console_assets[] = {\n${table}};\n")
string(APPEND body "const size_t ward_console_n_assets =\n    sizeof ward_console_assets / sizeof ward_console_assets[0];\n")
file(WRITE "${OUT}.tmp" "${body}")
# Only touch the output when it changed, so nothing relinks for nothing.
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
