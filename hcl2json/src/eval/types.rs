//! Type constraints (`string`, `list(number)`, `object({...})`...) and the
//! conversions cty applies when a value meets one.

use std::collections::BTreeMap;

use crate::syntax::{Expr, ExprKind, ObjectKey};
use crate::value::Value;

/// A type constraint, as written in a `variable` block's `type` or as the
/// second argument of `convert`.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// `any`: no conversion.
    Any,
    /// `string`
    String,
    /// `number`
    Number,
    /// `bool`
    Bool,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)`
    Map(Box<Type>),
    /// `tuple([T, ...])`
    Tuple(Vec<Type>),
    /// `object({name = T, ...})`
    Object(BTreeMap<String, Type>),
}

impl Type {
    /// Reads a type expression. The error is a one-line reason.
    pub fn from_expr(expr: &Expr) -> Result<Type, String> {
        match &expr.kind {
            ExprKind::Variable(ident) => match ident.name.as_str() {
                "any" => Ok(Type::Any),
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "list" | "set" | "map" | "tuple" | "object" => Err(format!(
                    "Incorrect type specification: The {} type constructor requires one argument specifying the element type.",
                    ident.name
                )),
                other => Err(format!(
                    "Invalid type specification: The keyword \"{other}\" is not a valid type specification."
                )),
            },
            ExprKind::Call(call) => {
                let name = call.name.name.as_str();
                let [arg] = call.args.as_slice() else {
                    return Err(format!(
                        "Incorrect type specification: The {name} type constructor requires one argument."
                    ));
                };
                match name {
                    "list" => Ok(Type::List(Box::new(Type::from_expr(arg)?))),
                    "set" => Ok(Type::Set(Box::new(Type::from_expr(arg)?))),
                    "map" => Ok(Type::Map(Box::new(Type::from_expr(arg)?))),
                    "tuple" => match &arg.kind {
                        ExprKind::Tuple(items) => Ok(Type::Tuple(
                            items.iter().map(Type::from_expr).collect::<Result<_, _>>()?,
                        )),
                        _ => Err("Invalid tuple type specification: The tuple type constructor requires a list of element types.".into()),
                    },
                    "object" => match &arg.kind {
                        ExprKind::Object(items) => {
                            let mut attrs = BTreeMap::new();
                            for item in items {
                                let key = match &item.key {
                                    ObjectKey::Ident(ident) => ident.name.clone(),
                                    ObjectKey::Expr(e) => match &e.kind {
                                        ExprKind::Template(t) => t.as_literal().ok_or_else(object_key_error)?,
                                        _ => return Err(object_key_error()),
                                    },
                                };
                                attrs.insert(key, Type::from_expr(&item.value)?);
                            }
                            Ok(Type::Object(attrs))
                        }
                        _ => Err("Invalid object type specification: The object type constructor requires an object of attribute types.".into()),
                    },
                    other => Err(format!(
                        "Invalid type specification: Keyword \"{other}\" is not a valid type constructor."
                    )),
                }
            }
            ExprKind::Parens(inner) => Type::from_expr(inner),
            _ => Err("Invalid type specification: A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).".into()),
        }
    }

    /// The friendly name cty uses in messages.
    pub fn name(&self) -> String {
        match self {
            Type::Any => "any".into(),
            Type::String => "string".into(),
            Type::Number => "number".into(),
            Type::Bool => "bool".into(),
            Type::List(t) => format!("list of {}", t.name()),
            Type::Set(t) => format!("set of {}", t.name()),
            Type::Map(t) => format!("map of {}", t.name()),
            Type::Tuple(_) => "tuple".into(),
            Type::Object(_) => "object".into(),
        }
    }

    /// Converts `value` to this type the way cty's `convert` does, or says
    /// why it cannot be.
    pub fn convert(&self, value: Value) -> Result<Value, String> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        match self {
            Type::Any => Ok(value),
            Type::String => value
                .to_str()
                .map(Value::String)
                .ok_or_else(|| "string required".into()),
            Type::Number => match &value {
                Value::Number(n) => Ok(Value::Number(*n)),
                Value::String(_) => value
                    .to_number()
                    .map(Value::Number)
                    .ok_or_else(|| "a number is required".into()),
                _ => Err("number required".into()),
            },
            Type::Bool => match &value {
                Value::Bool(_) | Value::String(_) => value
                    .to_bool()
                    .map(Value::Bool)
                    .ok_or_else(|| "a bool is required".into()),
                _ => Err("bool required".into()),
            },
            Type::List(elem) | Type::Set(elem) => {
                let Value::Tuple(items) = value else {
                    return Err(format!("{} required", self.name()));
                };
                let mut out = items
                    .into_iter()
                    .map(|v| elem.convert(v))
                    .collect::<Result<Vec<_>, _>>()?;
                if matches!(self, Type::Set(_)) {
                    out = crate::eval::set_of(out);
                }
                Ok(Value::Tuple(out))
            }
            Type::Map(elem) => {
                let Value::Object(map) = value else {
                    return Err(format!("{} required", self.name()));
                };
                let converted = map
                    .into_iter()
                    .map(|(k, v)| elem.convert(v).map(|v| (k, v)))
                    .collect::<Result<BTreeMap<_, _>, _>>()?;
                Ok(Value::Object(converted))
            }
            Type::Tuple(types) => {
                let Value::Tuple(items) = value else {
                    return Err("tuple required".into());
                };
                if items.len() != types.len() {
                    return Err(format!("tuple required with {} elements", types.len()));
                }
                let out = items
                    .into_iter()
                    .zip(types)
                    .map(|(v, t)| t.convert(v))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::Tuple(out))
            }
            Type::Object(attrs) => {
                let Value::Object(mut map) = value else {
                    return Err("object required".into());
                };
                let mut out = BTreeMap::new();
                for (name, ty) in attrs {
                    let v = map
                        .remove(name)
                        .ok_or_else(|| format!("attribute \"{name}\" is required"))?;
                    out.insert(name.clone(), ty.convert(v)?);
                }
                Ok(Value::Object(out))
            }
        }
    }
}

fn object_key_error() -> String {
    "Invalid object type specification: Object type attribute names must be identifiers.".into()
}
