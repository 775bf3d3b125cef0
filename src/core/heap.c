/* SPDX-License-Identifier: MIT */
/* heap.c: insertion into and removal from the pointer-based min-heap. */
#include "heap.h"

#include <stddef.h>


void loom__heap_init(loom__heap_t* heap) {
  heap->min = NULL;
  heap->nelts = 0;
}


/* Exchanges a node with its direct child. Every link that pointed at one
 * of the two (the grandparent's, the sibling's, the grandchildren's) is
 * rewritten, so the tree shape stays the same and only the two trade
 * places. */
static void swap_with_parent(loom__heap_t* heap, loom_heap_node_t* parent,
                             loom_heap_node_t* child) {
  loom_heap_node_t saved = *parent;
  loom_heap_node_t* sibling;

  parent->left = child->left;
  parent->right = child->right;
  parent->parent = child;
  if (saved.left == child) {
    child->left = parent;
    child->right = saved.right;
    sibling = saved.right;
  } else {
    child->right = parent;
    child->left = saved.left;
    sibling = saved.left;
  }
  child->parent = saved.parent;

  if (sibling != NULL)
    sibling->parent = child;
  if (parent->left != NULL)
    parent->left->parent = parent;
  if (parent->right != NULL)
    parent->right->parent = parent;

  if (child->parent == NULL)
    heap->min = child;
  else if (child->parent->left == parent)
    child->parent->left = child;
  else
    child->parent->right = child;
}


/* Finds the link that holds node number n (1-based, breadth first) and the
 * node owning that link. */
static loom_heap_node_t** find_link(loom__heap_t* heap, unsigned long n,
                                    loom_heap_node_t** parent_out) {
  loom_heap_node_t** link = &heap->min;
  loom_heap_node_t* parent = NULL;
  int depth = 0;
  unsigned long m;

  for (m = n; m > 1; m >>= 1)
    depth++;
  while (depth > 0) {
    depth--;
    parent = *link;
    link = ((n >> depth) & 1) ? &parent->right : &parent->left;
  }
  *parent_out = parent;
  return link;
}


/* Moves node down while a child must come out before it. */
static void sift_down(loom__heap_t* heap, loom_heap_node_t* node,
                      loom__heap_less less) {
  loom_heap_node_t* smallest;

  for (;;) {
    smallest = node;
    if (node->left != NULL && less(node->left, smallest))
      smallest = node->left;
    if (node->right != NULL && less(node->right, smallest))
      smallest = node->right;
    if (smallest == node)
      return;
    swap_with_parent(heap, node, smallest);
  }
}


void loom__heap_insert(loom__heap_t* heap, loom_heap_node_t* node,
                       loom__heap_less less) {
  loom_heap_node_t* parent;
  loom_heap_node_t** link;

  node->left = NULL;
  node->right = NULL;
  link = find_link(heap, heap->nelts + 1, &parent);
  node->parent = parent;
  *link = node;
  heap->nelts++;

  while (node->parent != NULL && less(node, node->parent))
    swap_with_parent(heap, node->parent, node);
}


void loom__heap_remove(loom__heap_t* heap, loom_heap_node_t* node,
                       loom__heap_less less) {
  loom_heap_node_t* parent;
  loom_heap_node_t* last;
  loom_heap_node_t** link;

  if (heap->nelts == 0)
    return;

  /* Detach the last node of the tree; it will fill the hole. */
  link = find_link(heap, heap->nelts, &parent);
  last = *link;
  *link = NULL;
  heap->nelts--;

  if (last != node) {
    last->left = node->left;
    last->right = node->right;
    last->parent = node->parent;
    if (last->left != NULL)
      last->left->parent = last;
    if (last->right != NULL)
      last->right->parent = last;
    if (node->parent == NULL)
      heap->min = last;
    else if (node->parent->left == node)
      node->parent->left = last;
    else
      node->parent->right = last;

    /* The moved node may belong lower or higher than the hole. */
    sift_down(heap, last, less);
    while (last->parent != NULL && less(last, last->parent))
      swap_with_parent(heap, last->parent, last);
  }

  node->left = NULL;
  node->right = NULL;
  node->parent = NULL;
}


/* A node whose key grew only has to move down: its parent still comes
 * out first. Costs two comparisons when it stays, where a removal and a
 * new insertion cost a walk to the last leaf and back. */
void loom__heap_key_increased(loom__heap_t* heap, loom_heap_node_t* node,
                              loom__heap_less less) {
  sift_down(heap, node, less);
}
