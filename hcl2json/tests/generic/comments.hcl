# hash comment
// slash comment
/* block
   comment */
a = 1 # trailing hash
b = 2 // trailing slash
c = /* inline */ 3
d = [
  1, # one
  2, // two
  /* three */ 3,
]
e = {
  # comment in object
  x = 1 // x
  /* y */ y = 2
}
block {
  # comment in block
  f = "# not a comment"
  g = "// not a comment either"
  h = "/* nor this */"
}
/* a block comment
spanning lines with # and // inside */
last = true
# comment at the end, without a newline