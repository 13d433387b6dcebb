# Turns a file into a C++ source defining `extern const std::string_view SYMBOL`. The file is
# read as hex and written as one '\xNN' character per byte, so any bytes (binary ones, NULs)
# come through exactly; the view's size is the file's.
file(READ ${INPUT} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
file(WRITE ${OUTPUT} "#include <string_view>\nstatic const char data[] = {${bytes} 0};\n"
     "extern const std::string_view ${SYMBOL}(data, sizeof(data) - 1);\n")
