/* SPDX-License-Identifier: MIT */
/* dns_hosts.c: the hosts file, parsed once and kept per loop.
 *
 * c-ares 1.18 opens and parses the hosts file on every lookup, which was
 * most of the cost of a getaddrinfo("localhost"). The loop keeps the
 * parsed file in a hash table instead and checks the file (one stat) at
 * most once per loop tick: a changed file, or a different CARES_HOSTS, is
 * read again. A name the table does not have goes to c-ares as before.
 */
#include "dns_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define HOSTS_MAX_BYTES (64u << 20)

typedef struct {
  const char* name;         /* in the text */
  const char* canon;        /* the line's first name */
  int next;                 /* the next entry of the same name, or -1 */
  int family;
  unsigned char addr[16];
} host_entry_t;

struct loom__hosts_s {
  char* path;               /* the file this table was read from */
  struct stat st;           /* as it was then (st_ino 0: missing) */
  uint64_t checked;         /* the loop time of the last stat */
  int checked_once;
  char* text;               /* the file, cut into names */
  host_entry_t* entries;
  size_t nentries;
  int* slots;               /* open addressing: first entry, or -1 */
  size_t nslots;            /* a power of two */
};


/* Names match without regard to case, so the hash ignores it too. */
static size_t hash_name(const char* s) {
  size_t h = 5381;

  for (; *s != '\0'; s++)
    h = h * 33 + (unsigned char) tolower((unsigned char) *s);
  return h;
}


static void table_clear(struct loom__hosts_s* h) {
  free(h->text);
  free(h->entries);
  free(h->slots);
  h->text = NULL;
  h->entries = NULL;
  h->slots = NULL;
  h->nentries = 0;
  h->nslots = 0;
}


/* Links every entry into the hash table; names seen again chain on. */
static int table_index(struct loom__hosts_s* h) {
  size_t i, slot, mask;
  int* tail;

  h->nslots = 16;
  while (h->nslots < h->nentries * 2)
    h->nslots *= 2;
  h->slots = malloc(h->nslots * sizeof(int));
  if (h->slots == NULL)
    return LOOM_ENOMEM;
  memset(h->slots, 0xFF, h->nslots * sizeof(int));
  mask = h->nslots - 1;
  for (i = 0; i < h->nentries; i++) {
    slot = hash_name(h->entries[i].name) & mask;
    while (h->slots[slot] >= 0 &&
           strcasecmp(h->entries[h->slots[slot]].name, h->entries[i].name))
      slot = (slot + 1) & mask;
    if (h->slots[slot] < 0) {
      h->slots[slot] = (int) i;
      continue;
    }
    /* Keep the file's order within a name. */
    for (tail = &h->slots[slot]; *tail >= 0; tail = &h->entries[*tail].next)
      ;
    *tail = (int) i;
  }
  return 0;
}


static int add_entry(struct loom__hosts_s* h, size_t* cap, const char* name,
                     const char* canon, int family, const unsigned char* addr) {
  host_entry_t* e;

  if (h->nentries == *cap) {
    size_t n = *cap ? *cap * 2 : 64;
    host_entry_t* grown;
    if (n > INT32_MAX / 2)
      return LOOM_ENOMEM;
    grown = realloc(h->entries, n * sizeof(*grown));
    if (grown == NULL)
      return LOOM_ENOMEM;
    h->entries = grown;
    *cap = n;
  }
  e = &h->entries[h->nentries++];
  e->name = name;
  e->canon = canon;
  e->next = -1;
  e->family = family;
  memcpy(e->addr, addr, family == AF_INET ? 4 : 16);
  return 0;
}


/* Cuts the text into NUL-ended words in place and records one entry per
 * name per line: "address name [aliases...] [# comment]". */
static int table_parse(struct loom__hosts_s* h) {
  unsigned char addr[16];
  size_t cap = 0;
  char* line = h->text;
  char* end;
  char* rest;
  char* word;
  char* canon;
  int family;
  int err;

  for (; *line != '\0'; line = end) {
    end = line + strcspn(line, "\n");
    if (*end == '\n')
      *end++ = '\0';
    line[strcspn(line, "#")] = '\0';
    word = strtok_r(line, " \t\r", &rest);
    if (word == NULL)
      continue;
    if (inet_pton(AF_INET, word, addr) == 1)
      family = AF_INET;
    else if (inet_pton(AF_INET6, word, addr) == 1)
      family = AF_INET6;
    else
      continue; /* as c-ares: a line it cannot read is left out */
    canon = NULL;
    while ((word = strtok_r(NULL, " \t\r", &rest)) != NULL) {
      if (canon == NULL)
        canon = word;
      err = add_entry(h, &cap, word, canon, family, addr);
      if (err != 0)
        return err;
    }
  }
  return 0;
}


/* Reads the file into the table; a missing file makes an empty table. */
static int table_load(struct loom__hosts_s* h, const char* path) {
  FILE* f;
  size_t n, cap = 4096, len = 0;
  char* text = malloc(cap);

  if (text == NULL)
    return LOOM_ENOMEM;
  f = fopen(path, "re");
  if (f != NULL) {
    for (;;) {
      if (cap - len < 4096) {
        char* grown;
        if (cap >= HOSTS_MAX_BYTES)
          break; /* the rest goes to c-ares */
        grown = realloc(text, cap * 2);
        if (grown == NULL) {
          fclose(f);
          free(text);
          return LOOM_ENOMEM;
        }
        text = grown;
        cap *= 2;
      }
      n = fread(text + len, 1, cap - len - 1, f);
      if (n == 0)
        break;
      len += n;
    }
    fclose(f);
  }
  text[len] = '\0';
  table_clear(h);
  h->text = text;
  if (table_parse(h) != 0 || table_index(h) != 0) {
    table_clear(h);
    return LOOM_ENOMEM;
  }
  return 0;
}


static int same_file(const struct stat* a, const struct stat* b) {
  return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
         a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
         a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}


/* The loop's table, current as of this tick, or NULL (out of memory). */
static struct loom__hosts_s* hosts_current(loom_loop_t* loop) {
  struct loom__hosts_s* h = loop->hosts;
  const char* path;
  struct stat st;

  if (h == NULL) {
    h = calloc(1, sizeof(*h));
    if (h == NULL)
      return NULL;
    loop->hosts = h;
  }
  if (h->checked_once && h->checked == loop->time)
    return h->slots != NULL ? h : NULL;
  h->checked = loop->time;
  h->checked_once = 1;
  path = getenv("CARES_HOSTS");
  if (path == NULL || *path == '\0')
    path = "/etc/hosts";
  if (stat(path, &st) != 0)
    memset(&st, 0, sizeof(st));
  if (h->slots != NULL && h->path != NULL && strcmp(h->path, path) == 0 &&
      same_file(&h->st, &st))
    return h;
  free(h->path);
  h->path = strdup(path);
  h->st = st;
  if (h->path == NULL || table_load(h, path) != 0) {
    table_clear(h);
    return NULL;
  }
  return h;
}


int loom__hosts_find(loom_loop_t* loop, const char* name,
                     loom__hosts_visit visit, void* arg) {
  struct loom__hosts_s* h;
  size_t slot, mask;
  int idx, err, found = 0;

  h = hosts_current(loop);
  if (h == NULL || h->nentries == 0)
    return 0;
  mask = h->nslots - 1;
  slot = hash_name(name) & mask;
  while ((idx = h->slots[slot]) >= 0 &&
         strcasecmp(h->entries[idx].name, name) != 0)
    slot = (slot + 1) & mask;
  for (; idx >= 0; idx = h->entries[idx].next) {
    const host_entry_t* e = &h->entries[idx];
    err = visit(arg, e->family, e->addr, e->canon);
    if (err < 0)
      return err;
    found += err;
  }
  return found;
}


void loom__hosts_free(loom_loop_t* loop) {
  struct loom__hosts_s* h = loop->hosts;

  if (h == NULL)
    return;
  table_clear(h);
  free(h->path);
  free(h);
  loop->hosts = NULL;
}
