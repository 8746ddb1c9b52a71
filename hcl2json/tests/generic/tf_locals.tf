locals {
  env         = "prod"
  name        = "web-${var.env}"
  upper_name  = upper(local.name)
  count_plus  = length(var.datacenters) + 1
  is_prod     = var.env == "prod"
  replicas    = var.env == "prod" ? 3 : 1
  dc_upper    = [for dc in var.datacenters : upper(dc)]
  dc_index    = { for i, dc in var.datacenters : dc => i if dc != "" }
  ids         = aws_instance.server[*].id
  legacy_ids  = aws_instance.server.*.id
  first_ip    = aws_instance.server[0].private_ip
  tag_value   = var.tags["Name"]
  joined      = join(",", concat(var.a, ["x", "y"]))
  merged      = merge(var.tags, { Extra = "yes" })
  escaped     = "${var.home}/bin:$${PATH}"
  percent     = "${var.p}%%{literal}"
  escapes     = "${var.a}\n\t\"q\""
  directive   = "%{ if var.debug }debug%{ else }info%{ endif }"
  negated     = !var.enabled
  math        = (var.a + 2) * 3 - -1
  mixed_list  = [var.a, "b", 3, null, true, -2]
  only_interp = "${var.x}"
  lookup      = lookup(var.m, "k", "default")
  key_expr    = { (var.key) = 1 }
  obj_mixed   = { static = "s", dynamic = var.d, list = [local.env, 1] }
}
