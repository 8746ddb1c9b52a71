# Literal values: numbers, booleans, null, strings, lists and objects.
int        = 42
zero       = 0
negative   = -17
float      = 3.14159
neg_float  = -0.5
exponent   = 1e3
exp_frac   = 2.5E-3
big        = 4294967296
yes        = true
no         = false
nothing    = null
empty_str  = ""
escapes    = "tab\there \"quoted\" back\\slash \u00e9\U0001F600 nl\n"
unicode    = "Zürich — 東京"
templ_like = "{{ GetPrivateIP }}"
empty_list = []
empty_obj  = {}
list       = [1, "two", 3.5, false, null]
nested     = [[1, 2], [3, [4, [5]]], []]
object = {
  name         = "web"
  "quoted key" = 1
  port         = 8080
  tags         = ["a", "b"]
  inner        = { deep = { deeper = true } }
}
colon_obj = { a : 1, b : "x" }
trailing = [
  "a",
  "b",
]
multi_line_obj = {
  a = 1,
  b = 2
}
list_of_objects = [{ name = "a", port = 1 }, { name = "b", port = 2 }]
