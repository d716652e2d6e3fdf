/* version.h - the program's version, as `moesim --version` prints it and the
 * runs table records it. */
#ifndef MOESIM_VERSION_H
#define MOESIM_VERSION_H

#define MOESIM_VERSION "0.1.0"

#endif
