//! The shape of Nomad's job API, as far as a job file can fill it.
//!
//! One [`Struct`] per Go struct of Nomad's `api` package (v1.6) reachable
//! from `Job`, with its fields in declaration order (the order Go prints
//! them), the JSON key of each, how a job file sets it (`hcl` tag) and its
//! Go type. The type decides two things the output depends on: how an HCL
//! value is converted, and what an unset field prints as (Go prints the zero
//! value of every non-pointer field: `""`, `0`, `false`, or a whole zero
//! struct; pointers, slices and maps print `null`, which is dropped).

/// A Go struct of the job API.
#[derive(Debug)]
pub struct Struct {
    /// The Go name, for error messages.
    pub name: &'static str,
    /// The fields, in declaration order.
    pub fields: &'static [Field],
}

/// One field of a [`Struct`].
#[derive(Debug)]
pub struct Field {
    /// The JSON key.
    pub json: &'static str,
    /// How a job file sets the field.
    pub hcl: Hcl,
    /// The Go type.
    pub ty: Ty,
    /// `json:",omitempty"`: the zero value is left out.
    pub omit_empty: bool,
}

/// How a job file sets a field (its `hcl:"..."` tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hcl {
    /// Not settable from a job file.
    Skip,
    /// An optional argument.
    Attr(&'static str),
    /// A required argument.
    Required(&'static str),
    /// A block (or repeated blocks, or a map of labelled blocks).
    Block(&'static str),
    /// The block's label.
    Label,
}

/// A Go type.
#[derive(Debug)]
pub enum Ty {
    /// `string`
    Str,
    /// `int`, `int64`
    Int,
    /// `uint64`
    Uint,
    /// `int8`
    I8,
    /// `uint8`
    U8,
    /// `float64`
    Float,
    /// `bool`
    Bool,
    /// `time.Duration`: integer nanoseconds, written as `"30s"` or a number.
    Duration,
    /// `interface{}`: any value.
    Any,
    /// `[]byte`
    Bytes,
    /// `*T`
    Ptr(&'static Ty),
    /// `[]T`
    Slice(&'static Ty),
    /// `map[string]T`
    Map(&'static Ty),
    /// A struct.
    Struct(&'static Struct),
}

impl Struct {
    /// The field set by the argument or block `name`.
    pub fn field_for(&'static self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| match f.hcl {
            Hcl::Attr(n) | Hcl::Required(n) | Hcl::Block(n) => n == name,
            Hcl::Skip | Hcl::Label => false,
        })
    }

    /// The field of the JSON key `json`.
    pub fn field(&'static self, json: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.json == json)
    }
}

impl Ty {
    /// The type behind any number of pointers.
    pub fn pointee(&'static self) -> &'static Ty {
        match self {
            Ty::Ptr(inner) => inner.pointee(),
            other => other,
        }
    }
}

/// `Job`
#[rustfmt::skip]
pub static JOB: Struct = Struct {
    name: "Job",
    fields: &[
        Field { json: "Region", hcl: Hcl::Attr("region"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Namespace", hcl: Hcl::Attr("namespace"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "ID", hcl: Hcl::Attr("id"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Name", hcl: Hcl::Attr("name"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Type", hcl: Hcl::Attr("type"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Priority", hcl: Hcl::Attr("priority"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "AllAtOnce", hcl: Hcl::Attr("all_at_once"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "Datacenters", hcl: Hcl::Attr("datacenters"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
        Field { json: "NodePool", hcl: Hcl::Attr("node_pool"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Constraints", hcl: Hcl::Block("constraint"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&CONSTRAINT))), omit_empty: false },
        Field { json: "Affinities", hcl: Hcl::Block("affinity"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&AFFINITY))), omit_empty: false },
        Field { json: "TaskGroups", hcl: Hcl::Block("group"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&TASK_GROUP))), omit_empty: false },
        Field { json: "Update", hcl: Hcl::Block("update"), ty: Ty::Ptr(&Ty::Struct(&UPDATE_STRATEGY)), omit_empty: false },
        Field { json: "Multiregion", hcl: Hcl::Block("multiregion"), ty: Ty::Ptr(&Ty::Struct(&MULTIREGION)), omit_empty: false },
        Field { json: "Spreads", hcl: Hcl::Block("spread"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&SPREAD))), omit_empty: false },
        Field { json: "Periodic", hcl: Hcl::Block("periodic"), ty: Ty::Ptr(&Ty::Struct(&PERIODIC_CONFIG)), omit_empty: false },
        Field { json: "ParameterizedJob", hcl: Hcl::Block("parameterized"), ty: Ty::Ptr(&Ty::Struct(&PARAMETERIZED_JOB_CONFIG)), omit_empty: false },
        Field { json: "Reschedule", hcl: Hcl::Block("reschedule"), ty: Ty::Ptr(&Ty::Struct(&RESCHEDULE_POLICY)), omit_empty: false },
        Field { json: "Migrate", hcl: Hcl::Block("migrate"), ty: Ty::Ptr(&Ty::Struct(&MIGRATE_STRATEGY)), omit_empty: false },
        Field { json: "Meta", hcl: Hcl::Block("meta"), ty: Ty::Map(&Ty::Str), omit_empty: false },
        Field { json: "ConsulToken", hcl: Hcl::Attr("consul_token"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "VaultToken", hcl: Hcl::Attr("vault_token"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Stop", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "ParentID", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Dispatched", hcl: Hcl::Skip, ty: Ty::Bool, omit_empty: false },
        Field { json: "DispatchIdempotencyToken", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Payload", hcl: Hcl::Skip, ty: Ty::Bytes, omit_empty: false },
        Field { json: "ConsulNamespace", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "VaultNamespace", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "NomadTokenID", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Status", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "StatusDescription", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Stable", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "Version", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Uint), omit_empty: false },
        Field { json: "SubmitTime", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "CreateIndex", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Uint), omit_empty: false },
        Field { json: "ModifyIndex", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Uint), omit_empty: false },
        Field { json: "JobModifyIndex", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Uint), omit_empty: false },
    ],
};

/// `Vault`
#[rustfmt::skip]
pub static VAULT: Struct = Struct {
    name: "Vault",
    fields: &[
        Field { json: "Policies", hcl: Hcl::Attr("policies"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
        Field { json: "Namespace", hcl: Hcl::Attr("namespace"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Env", hcl: Hcl::Attr("env"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "DisableFile", hcl: Hcl::Attr("disable_file"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "ChangeMode", hcl: Hcl::Attr("change_mode"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "ChangeSignal", hcl: Hcl::Attr("change_signal"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
    ],
};

/// `Task`
#[rustfmt::skip]
pub static TASK: Struct = Struct {
    name: "Task",
    fields: &[
        Field { json: "Name", hcl: Hcl::Label, ty: Ty::Str, omit_empty: false },
        Field { json: "Driver", hcl: Hcl::Attr("driver"), ty: Ty::Str, omit_empty: false },
        Field { json: "User", hcl: Hcl::Attr("user"), ty: Ty::Str, omit_empty: false },
        Field { json: "Lifecycle", hcl: Hcl::Block("lifecycle"), ty: Ty::Ptr(&Ty::Struct(&TASK_LIFECYCLE)), omit_empty: false },
        Field { json: "Config", hcl: Hcl::Block("config"), ty: Ty::Map(&Ty::Any), omit_empty: false },
        Field { json: "Constraints", hcl: Hcl::Block("constraint"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&CONSTRAINT))), omit_empty: false },
        Field { json: "Affinities", hcl: Hcl::Block("affinity"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&AFFINITY))), omit_empty: false },
        Field { json: "Env", hcl: Hcl::Block("env"), ty: Ty::Map(&Ty::Str), omit_empty: false },
        Field { json: "Services", hcl: Hcl::Block("service"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&SERVICE))), omit_empty: false },
        Field { json: "Resources", hcl: Hcl::Block("resources"), ty: Ty::Ptr(&Ty::Struct(&RESOURCES)), omit_empty: false },
        Field { json: "RestartPolicy", hcl: Hcl::Block("restart"), ty: Ty::Ptr(&Ty::Struct(&RESTART_POLICY)), omit_empty: false },
        Field { json: "Meta", hcl: Hcl::Block("meta"), ty: Ty::Map(&Ty::Str), omit_empty: false },
        Field { json: "KillTimeout", hcl: Hcl::Attr("kill_timeout"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "LogConfig", hcl: Hcl::Block("logs"), ty: Ty::Ptr(&Ty::Struct(&LOG_CONFIG)), omit_empty: false },
        Field { json: "Artifacts", hcl: Hcl::Block("artifact"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&TASK_ARTIFACT))), omit_empty: false },
        Field { json: "Vault", hcl: Hcl::Block("vault"), ty: Ty::Ptr(&Ty::Struct(&VAULT)), omit_empty: false },
        Field { json: "Templates", hcl: Hcl::Block("template"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&TEMPLATE))), omit_empty: false },
        Field { json: "DispatchPayload", hcl: Hcl::Block("dispatch_payload"), ty: Ty::Ptr(&Ty::Struct(&DISPATCH_PAYLOAD_CONFIG)), omit_empty: false },
        Field { json: "VolumeMounts", hcl: Hcl::Block("volume_mount"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&VOLUME_MOUNT))), omit_empty: false },
        Field { json: "CSIPluginConfig", hcl: Hcl::Block("csi_plugin"), ty: Ty::Ptr(&Ty::Struct(&TASKCSI_PLUGIN_CONFIG)), omit_empty: true },
        Field { json: "Leader", hcl: Hcl::Attr("leader"), ty: Ty::Bool, omit_empty: false },
        Field { json: "ShutdownDelay", hcl: Hcl::Attr("shutdown_delay"), ty: Ty::Duration, omit_empty: false },
        Field { json: "KillSignal", hcl: Hcl::Attr("kill_signal"), ty: Ty::Str, omit_empty: false },
        Field { json: "Kind", hcl: Hcl::Attr("kind"), ty: Ty::Str, omit_empty: false },
        Field { json: "ScalingPolicies", hcl: Hcl::Block("scaling"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&SCALING_POLICY))), omit_empty: false },
        Field { json: "Identity", hcl: Hcl::Block("identity"), ty: Ty::Ptr(&Ty::Struct(&WORKLOAD_IDENTITY)), omit_empty: false },
    ],
};

/// `Constraint`
#[rustfmt::skip]
pub static CONSTRAINT: Struct = Struct {
    name: "Constraint",
    fields: &[
        Field { json: "LTarget", hcl: Hcl::Attr("attribute"), ty: Ty::Str, omit_empty: false },
        Field { json: "RTarget", hcl: Hcl::Attr("value"), ty: Ty::Str, omit_empty: false },
        Field { json: "Operand", hcl: Hcl::Attr("operator"), ty: Ty::Str, omit_empty: false },
    ],
};

/// `Affinity`
#[rustfmt::skip]
pub static AFFINITY: Struct = Struct {
    name: "Affinity",
    fields: &[
        Field { json: "LTarget", hcl: Hcl::Attr("attribute"), ty: Ty::Str, omit_empty: false },
        Field { json: "RTarget", hcl: Hcl::Attr("value"), ty: Ty::Str, omit_empty: false },
        Field { json: "Operand", hcl: Hcl::Attr("operator"), ty: Ty::Str, omit_empty: false },
        Field { json: "Weight", hcl: Hcl::Attr("weight"), ty: Ty::Ptr(&Ty::I8), omit_empty: false },
    ],
};

/// `TaskGroup`
#[rustfmt::skip]
pub static TASK_GROUP: Struct = Struct {
    name: "TaskGroup",
    fields: &[
        Field { json: "Name", hcl: Hcl::Label, ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Count", hcl: Hcl::Attr("count"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "Constraints", hcl: Hcl::Block("constraint"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&CONSTRAINT))), omit_empty: false },
        Field { json: "Affinities", hcl: Hcl::Block("affinity"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&AFFINITY))), omit_empty: false },
        Field { json: "Tasks", hcl: Hcl::Block("task"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&TASK))), omit_empty: false },
        Field { json: "Spreads", hcl: Hcl::Block("spread"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&SPREAD))), omit_empty: false },
        Field { json: "Volumes", hcl: Hcl::Block("volume"), ty: Ty::Map(&Ty::Ptr(&Ty::Struct(&VOLUME_REQUEST))), omit_empty: false },
        Field { json: "RestartPolicy", hcl: Hcl::Block("restart"), ty: Ty::Ptr(&Ty::Struct(&RESTART_POLICY)), omit_empty: false },
        Field { json: "ReschedulePolicy", hcl: Hcl::Block("reschedule"), ty: Ty::Ptr(&Ty::Struct(&RESCHEDULE_POLICY)), omit_empty: false },
        Field { json: "EphemeralDisk", hcl: Hcl::Block("ephemeral_disk"), ty: Ty::Ptr(&Ty::Struct(&EPHEMERAL_DISK)), omit_empty: false },
        Field { json: "Update", hcl: Hcl::Block("update"), ty: Ty::Ptr(&Ty::Struct(&UPDATE_STRATEGY)), omit_empty: false },
        Field { json: "Migrate", hcl: Hcl::Block("migrate"), ty: Ty::Ptr(&Ty::Struct(&MIGRATE_STRATEGY)), omit_empty: false },
        Field { json: "Networks", hcl: Hcl::Block("network"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&NETWORK_RESOURCE))), omit_empty: false },
        Field { json: "Meta", hcl: Hcl::Block("meta"), ty: Ty::Map(&Ty::Str), omit_empty: false },
        Field { json: "Services", hcl: Hcl::Block("service"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&SERVICE))), omit_empty: false },
        Field { json: "ShutdownDelay", hcl: Hcl::Attr("shutdown_delay"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "StopAfterClientDisconnect", hcl: Hcl::Attr("stop_after_client_disconnect"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "MaxClientDisconnect", hcl: Hcl::Attr("max_client_disconnect"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "Scaling", hcl: Hcl::Block("scaling"), ty: Ty::Ptr(&Ty::Struct(&SCALING_POLICY)), omit_empty: false },
        Field { json: "Consul", hcl: Hcl::Block("consul"), ty: Ty::Ptr(&Ty::Struct(&CONSUL)), omit_empty: false },
    ],
};

/// `UpdateStrategy`
#[rustfmt::skip]
pub static UPDATE_STRATEGY: Struct = Struct {
    name: "UpdateStrategy",
    fields: &[
        Field { json: "Stagger", hcl: Hcl::Attr("stagger"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "MaxParallel", hcl: Hcl::Attr("max_parallel"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "HealthCheck", hcl: Hcl::Attr("health_check"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "MinHealthyTime", hcl: Hcl::Attr("min_healthy_time"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "HealthyDeadline", hcl: Hcl::Attr("healthy_deadline"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "ProgressDeadline", hcl: Hcl::Attr("progress_deadline"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "Canary", hcl: Hcl::Attr("canary"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "AutoRevert", hcl: Hcl::Attr("auto_revert"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "AutoPromote", hcl: Hcl::Attr("auto_promote"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
    ],
};

/// `Multiregion`
#[rustfmt::skip]
pub static MULTIREGION: Struct = Struct {
    name: "Multiregion",
    fields: &[
        Field { json: "Strategy", hcl: Hcl::Block("strategy"), ty: Ty::Ptr(&Ty::Struct(&MULTIREGION_STRATEGY)), omit_empty: false },
        Field { json: "Regions", hcl: Hcl::Block("region"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&MULTIREGION_REGION))), omit_empty: false },
    ],
};

/// `Spread`
#[rustfmt::skip]
pub static SPREAD: Struct = Struct {
    name: "Spread",
    fields: &[
        Field { json: "Attribute", hcl: Hcl::Attr("attribute"), ty: Ty::Str, omit_empty: false },
        Field { json: "Weight", hcl: Hcl::Attr("weight"), ty: Ty::Ptr(&Ty::I8), omit_empty: false },
        Field { json: "SpreadTarget", hcl: Hcl::Block("target"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&SPREAD_TARGET))), omit_empty: false },
    ],
};

/// `PeriodicConfig`
#[rustfmt::skip]
pub static PERIODIC_CONFIG: Struct = Struct {
    name: "PeriodicConfig",
    fields: &[
        Field { json: "Enabled", hcl: Hcl::Attr("enabled"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "Spec", hcl: Hcl::Attr("cron"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Specs", hcl: Hcl::Attr("crons"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
        Field { json: "SpecType", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "ProhibitOverlap", hcl: Hcl::Attr("prohibit_overlap"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "TimeZone", hcl: Hcl::Attr("time_zone"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
    ],
};

/// `ParameterizedJobConfig`
#[rustfmt::skip]
pub static PARAMETERIZED_JOB_CONFIG: Struct = Struct {
    name: "ParameterizedJobConfig",
    fields: &[
        Field { json: "Payload", hcl: Hcl::Attr("payload"), ty: Ty::Str, omit_empty: false },
        Field { json: "MetaRequired", hcl: Hcl::Attr("meta_required"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
        Field { json: "MetaOptional", hcl: Hcl::Attr("meta_optional"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
    ],
};

/// `ReschedulePolicy`
#[rustfmt::skip]
pub static RESCHEDULE_POLICY: Struct = Struct {
    name: "ReschedulePolicy",
    fields: &[
        Field { json: "Attempts", hcl: Hcl::Attr("attempts"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "Interval", hcl: Hcl::Attr("interval"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "Delay", hcl: Hcl::Attr("delay"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "DelayFunction", hcl: Hcl::Attr("delay_function"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "MaxDelay", hcl: Hcl::Attr("max_delay"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "Unlimited", hcl: Hcl::Attr("unlimited"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
    ],
};

/// `MigrateStrategy`
#[rustfmt::skip]
pub static MIGRATE_STRATEGY: Struct = Struct {
    name: "MigrateStrategy",
    fields: &[
        Field { json: "MaxParallel", hcl: Hcl::Attr("max_parallel"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "HealthCheck", hcl: Hcl::Attr("health_check"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "MinHealthyTime", hcl: Hcl::Attr("min_healthy_time"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "HealthyDeadline", hcl: Hcl::Attr("healthy_deadline"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
    ],
};

/// `TaskLifecycle`
#[rustfmt::skip]
pub static TASK_LIFECYCLE: Struct = Struct {
    name: "TaskLifecycle",
    fields: &[
        Field { json: "Hook", hcl: Hcl::Attr("hook"), ty: Ty::Str, omit_empty: false },
        Field { json: "Sidecar", hcl: Hcl::Attr("sidecar"), ty: Ty::Bool, omit_empty: false },
    ],
};

/// `Service`
#[rustfmt::skip]
pub static SERVICE: Struct = Struct {
    name: "Service",
    fields: &[
        Field { json: "Name", hcl: Hcl::Attr("name"), ty: Ty::Str, omit_empty: false },
        Field { json: "Tags", hcl: Hcl::Attr("tags"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
        Field { json: "CanaryTags", hcl: Hcl::Attr("canary_tags"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
        Field { json: "EnableTagOverride", hcl: Hcl::Attr("enable_tag_override"), ty: Ty::Bool, omit_empty: false },
        Field { json: "PortLabel", hcl: Hcl::Attr("port"), ty: Ty::Str, omit_empty: false },
        Field { json: "AddressMode", hcl: Hcl::Attr("address_mode"), ty: Ty::Str, omit_empty: false },
        Field { json: "Address", hcl: Hcl::Attr("address"), ty: Ty::Str, omit_empty: false },
        Field { json: "Checks", hcl: Hcl::Block("check"), ty: Ty::Slice(&Ty::Struct(&SERVICE_CHECK)), omit_empty: false },
        Field { json: "CheckRestart", hcl: Hcl::Block("check_restart"), ty: Ty::Ptr(&Ty::Struct(&CHECK_RESTART)), omit_empty: false },
        Field { json: "Connect", hcl: Hcl::Block("connect"), ty: Ty::Ptr(&Ty::Struct(&CONSUL_CONNECT)), omit_empty: false },
        Field { json: "Meta", hcl: Hcl::Block("meta"), ty: Ty::Map(&Ty::Str), omit_empty: false },
        Field { json: "CanaryMeta", hcl: Hcl::Block("canary_meta"), ty: Ty::Map(&Ty::Str), omit_empty: false },
        Field { json: "TaggedAddresses", hcl: Hcl::Block("tagged_addresses"), ty: Ty::Map(&Ty::Str), omit_empty: false },
        Field { json: "TaskName", hcl: Hcl::Attr("task"), ty: Ty::Str, omit_empty: false },
        Field { json: "OnUpdate", hcl: Hcl::Attr("on_update"), ty: Ty::Str, omit_empty: false },
        Field { json: "Provider", hcl: Hcl::Attr("provider"), ty: Ty::Str, omit_empty: false },
    ],
};

/// `Resources`
#[rustfmt::skip]
pub static RESOURCES: Struct = Struct {
    name: "Resources",
    fields: &[
        Field { json: "CPU", hcl: Hcl::Attr("cpu"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "Cores", hcl: Hcl::Attr("cores"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "MemoryMB", hcl: Hcl::Attr("memory"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "MemoryMaxMB", hcl: Hcl::Attr("memory_max"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "DiskMB", hcl: Hcl::Attr("disk"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "Networks", hcl: Hcl::Block("network"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&NETWORK_RESOURCE))), omit_empty: false },
        Field { json: "Devices", hcl: Hcl::Block("device"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&REQUESTED_DEVICE))), omit_empty: false },
        Field { json: "IOPS", hcl: Hcl::Attr("iops"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
    ],
};

/// `RestartPolicy`
#[rustfmt::skip]
pub static RESTART_POLICY: Struct = Struct {
    name: "RestartPolicy",
    fields: &[
        Field { json: "Interval", hcl: Hcl::Attr("interval"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "Attempts", hcl: Hcl::Attr("attempts"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "Delay", hcl: Hcl::Attr("delay"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "Mode", hcl: Hcl::Attr("mode"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "RenderTemplates", hcl: Hcl::Attr("render_templates"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
    ],
};

/// `LogConfig`
#[rustfmt::skip]
pub static LOG_CONFIG: Struct = Struct {
    name: "LogConfig",
    fields: &[
        Field { json: "MaxFiles", hcl: Hcl::Attr("max_files"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "MaxFileSizeMB", hcl: Hcl::Attr("max_file_size"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "Enabled", hcl: Hcl::Attr("enabled"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "Disabled", hcl: Hcl::Attr("disabled"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
    ],
};

/// `TaskArtifact`
#[rustfmt::skip]
pub static TASK_ARTIFACT: Struct = Struct {
    name: "TaskArtifact",
    fields: &[
        Field { json: "GetterSource", hcl: Hcl::Attr("source"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "GetterOptions", hcl: Hcl::Block("options"), ty: Ty::Map(&Ty::Str), omit_empty: false },
        Field { json: "GetterHeaders", hcl: Hcl::Block("headers"), ty: Ty::Map(&Ty::Str), omit_empty: false },
        Field { json: "GetterMode", hcl: Hcl::Attr("mode"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "RelativeDest", hcl: Hcl::Attr("destination"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
    ],
};

/// `Template`
#[rustfmt::skip]
pub static TEMPLATE: Struct = Struct {
    name: "Template",
    fields: &[
        Field { json: "SourcePath", hcl: Hcl::Attr("source"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "DestPath", hcl: Hcl::Attr("destination"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "EmbeddedTmpl", hcl: Hcl::Attr("data"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "ChangeMode", hcl: Hcl::Attr("change_mode"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "ChangeScript", hcl: Hcl::Block("change_script"), ty: Ty::Ptr(&Ty::Struct(&CHANGE_SCRIPT)), omit_empty: false },
        Field { json: "ChangeSignal", hcl: Hcl::Attr("change_signal"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Splay", hcl: Hcl::Attr("splay"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "Perms", hcl: Hcl::Attr("perms"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Uid", hcl: Hcl::Attr("uid"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "Gid", hcl: Hcl::Attr("gid"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "LeftDelim", hcl: Hcl::Attr("left_delimiter"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "RightDelim", hcl: Hcl::Attr("right_delimiter"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Envvars", hcl: Hcl::Attr("env"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "VaultGrace", hcl: Hcl::Attr("vault_grace"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "Wait", hcl: Hcl::Block("wait"), ty: Ty::Ptr(&Ty::Struct(&WAIT_CONFIG)), omit_empty: false },
        Field { json: "ErrMissingKey", hcl: Hcl::Attr("error_on_missing_key"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
    ],
};

/// `DispatchPayloadConfig`
#[rustfmt::skip]
pub static DISPATCH_PAYLOAD_CONFIG: Struct = Struct {
    name: "DispatchPayloadConfig",
    fields: &[
        Field { json: "File", hcl: Hcl::Attr("file"), ty: Ty::Str, omit_empty: false },
    ],
};

/// `VolumeMount`
#[rustfmt::skip]
pub static VOLUME_MOUNT: Struct = Struct {
    name: "VolumeMount",
    fields: &[
        Field { json: "Volume", hcl: Hcl::Attr("volume"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Destination", hcl: Hcl::Attr("destination"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "ReadOnly", hcl: Hcl::Attr("read_only"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "PropagationMode", hcl: Hcl::Attr("propagation_mode"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
    ],
};

/// `TaskCSIPluginConfig`
#[rustfmt::skip]
pub static TASKCSI_PLUGIN_CONFIG: Struct = Struct {
    name: "TaskCSIPluginConfig",
    fields: &[
        Field { json: "ID", hcl: Hcl::Attr("id"), ty: Ty::Str, omit_empty: false },
        Field { json: "Type", hcl: Hcl::Attr("type"), ty: Ty::Str, omit_empty: false },
        Field { json: "MountDir", hcl: Hcl::Attr("mount_dir"), ty: Ty::Str, omit_empty: false },
        Field { json: "StagePublishBaseDir", hcl: Hcl::Attr("stage_publish_base_dir"), ty: Ty::Str, omit_empty: false },
        Field { json: "HealthTimeout", hcl: Hcl::Attr("health_timeout"), ty: Ty::Duration, omit_empty: false },
    ],
};

/// `ScalingPolicy`
#[rustfmt::skip]
pub static SCALING_POLICY: Struct = Struct {
    name: "ScalingPolicy",
    fields: &[
        Field { json: "Min", hcl: Hcl::Attr("min"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "Max", hcl: Hcl::Attr("max"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "Policy", hcl: Hcl::Block("policy"), ty: Ty::Map(&Ty::Any), omit_empty: false },
        Field { json: "Enabled", hcl: Hcl::Attr("enabled"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "Type", hcl: Hcl::Attr("type"), ty: Ty::Str, omit_empty: false },
        Field { json: "ID", hcl: Hcl::Skip, ty: Ty::Str, omit_empty: false },
        Field { json: "Namespace", hcl: Hcl::Skip, ty: Ty::Str, omit_empty: false },
        Field { json: "Target", hcl: Hcl::Skip, ty: Ty::Map(&Ty::Str), omit_empty: false },
        Field { json: "CreateIndex", hcl: Hcl::Skip, ty: Ty::Uint, omit_empty: false },
        Field { json: "ModifyIndex", hcl: Hcl::Skip, ty: Ty::Uint, omit_empty: false },
    ],
};

/// `WorkloadIdentity`
#[rustfmt::skip]
pub static WORKLOAD_IDENTITY: Struct = Struct {
    name: "WorkloadIdentity",
    fields: &[
        Field { json: "Env", hcl: Hcl::Attr("env"), ty: Ty::Bool, omit_empty: false },
        Field { json: "File", hcl: Hcl::Attr("file"), ty: Ty::Bool, omit_empty: false },
    ],
};

/// `VolumeRequest`
#[rustfmt::skip]
pub static VOLUME_REQUEST: Struct = Struct {
    name: "VolumeRequest",
    fields: &[
        Field { json: "Name", hcl: Hcl::Label, ty: Ty::Str, omit_empty: false },
        Field { json: "Type", hcl: Hcl::Attr("type"), ty: Ty::Str, omit_empty: false },
        Field { json: "Source", hcl: Hcl::Attr("source"), ty: Ty::Str, omit_empty: false },
        Field { json: "ReadOnly", hcl: Hcl::Attr("read_only"), ty: Ty::Bool, omit_empty: false },
        Field { json: "AccessMode", hcl: Hcl::Attr("access_mode"), ty: Ty::Str, omit_empty: false },
        Field { json: "AttachmentMode", hcl: Hcl::Attr("attachment_mode"), ty: Ty::Str, omit_empty: false },
        Field { json: "MountOptions", hcl: Hcl::Block("mount_options"), ty: Ty::Ptr(&Ty::Struct(&CSI_MOUNT_OPTIONS)), omit_empty: false },
        Field { json: "PerAlloc", hcl: Hcl::Attr("per_alloc"), ty: Ty::Bool, omit_empty: false },
    ],
};

/// `EphemeralDisk`
#[rustfmt::skip]
pub static EPHEMERAL_DISK: Struct = Struct {
    name: "EphemeralDisk",
    fields: &[
        Field { json: "Sticky", hcl: Hcl::Attr("sticky"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "Migrate", hcl: Hcl::Attr("migrate"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
        Field { json: "SizeMB", hcl: Hcl::Attr("size"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
    ],
};

/// `NetworkResource`
#[rustfmt::skip]
pub static NETWORK_RESOURCE: Struct = Struct {
    name: "NetworkResource",
    fields: &[
        Field { json: "Mode", hcl: Hcl::Attr("mode"), ty: Ty::Str, omit_empty: false },
        Field { json: "Device", hcl: Hcl::Attr("device"), ty: Ty::Str, omit_empty: false },
        Field { json: "CIDR", hcl: Hcl::Attr("cidr"), ty: Ty::Str, omit_empty: false },
        Field { json: "IP", hcl: Hcl::Attr("ip"), ty: Ty::Str, omit_empty: false },
        Field { json: "DNS", hcl: Hcl::Block("dns"), ty: Ty::Ptr(&Ty::Struct(&DNS_CONFIG)), omit_empty: false },
        Field { json: "ReservedPorts", hcl: Hcl::Block("reserved_ports"), ty: Ty::Slice(&Ty::Struct(&PORT)), omit_empty: false },
        Field { json: "DynamicPorts", hcl: Hcl::Block("port"), ty: Ty::Slice(&Ty::Struct(&PORT)), omit_empty: false },
        Field { json: "Hostname", hcl: Hcl::Attr("hostname"), ty: Ty::Str, omit_empty: false },
        Field { json: "MBits", hcl: Hcl::Attr("mbits"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
    ],
};

/// `Consul`
#[rustfmt::skip]
pub static CONSUL: Struct = Struct {
    name: "Consul",
    fields: &[
        Field { json: "Namespace", hcl: Hcl::Attr("namespace"), ty: Ty::Str, omit_empty: false },
    ],
};

/// `MultiregionStrategy`
#[rustfmt::skip]
pub static MULTIREGION_STRATEGY: Struct = Struct {
    name: "MultiregionStrategy",
    fields: &[
        Field { json: "MaxParallel", hcl: Hcl::Attr("max_parallel"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "OnFailure", hcl: Hcl::Attr("on_failure"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
    ],
};

/// `MultiregionRegion`
#[rustfmt::skip]
pub static MULTIREGION_REGION: Struct = Struct {
    name: "MultiregionRegion",
    fields: &[
        Field { json: "Name", hcl: Hcl::Label, ty: Ty::Str, omit_empty: false },
        Field { json: "Count", hcl: Hcl::Attr("count"), ty: Ty::Ptr(&Ty::Int), omit_empty: false },
        Field { json: "Datacenters", hcl: Hcl::Attr("datacenters"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
        Field { json: "NodePool", hcl: Hcl::Attr("node_pool"), ty: Ty::Str, omit_empty: false },
        Field { json: "Meta", hcl: Hcl::Block("meta"), ty: Ty::Map(&Ty::Str), omit_empty: false },
    ],
};

/// `SpreadTarget`
#[rustfmt::skip]
pub static SPREAD_TARGET: Struct = Struct {
    name: "SpreadTarget",
    fields: &[
        Field { json: "Value", hcl: Hcl::Label, ty: Ty::Str, omit_empty: false },
        Field { json: "Percent", hcl: Hcl::Attr("percent"), ty: Ty::U8, omit_empty: false },
    ],
};

/// `ServiceCheck`
#[rustfmt::skip]
pub static SERVICE_CHECK: Struct = Struct {
    name: "ServiceCheck",
    fields: &[
        Field { json: "Name", hcl: Hcl::Attr("name"), ty: Ty::Str, omit_empty: false },
        Field { json: "Type", hcl: Hcl::Attr("type"), ty: Ty::Str, omit_empty: false },
        Field { json: "Command", hcl: Hcl::Attr("command"), ty: Ty::Str, omit_empty: false },
        Field { json: "Args", hcl: Hcl::Attr("args"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
        Field { json: "Path", hcl: Hcl::Attr("path"), ty: Ty::Str, omit_empty: false },
        Field { json: "Protocol", hcl: Hcl::Attr("protocol"), ty: Ty::Str, omit_empty: false },
        Field { json: "PortLabel", hcl: Hcl::Attr("port"), ty: Ty::Str, omit_empty: false },
        Field { json: "Expose", hcl: Hcl::Attr("expose"), ty: Ty::Bool, omit_empty: false },
        Field { json: "AddressMode", hcl: Hcl::Attr("address_mode"), ty: Ty::Str, omit_empty: false },
        Field { json: "Advertise", hcl: Hcl::Attr("advertise"), ty: Ty::Str, omit_empty: false },
        Field { json: "Interval", hcl: Hcl::Attr("interval"), ty: Ty::Duration, omit_empty: false },
        Field { json: "Timeout", hcl: Hcl::Attr("timeout"), ty: Ty::Duration, omit_empty: false },
        Field { json: "InitialStatus", hcl: Hcl::Attr("initial_status"), ty: Ty::Str, omit_empty: false },
        Field { json: "TLSServerName", hcl: Hcl::Attr("tls_server_name"), ty: Ty::Str, omit_empty: false },
        Field { json: "TLSSkipVerify", hcl: Hcl::Attr("tls_skip_verify"), ty: Ty::Bool, omit_empty: false },
        Field { json: "Header", hcl: Hcl::Block("header"), ty: Ty::Map(&Ty::Slice(&Ty::Str)), omit_empty: false },
        Field { json: "Method", hcl: Hcl::Attr("method"), ty: Ty::Str, omit_empty: false },
        Field { json: "CheckRestart", hcl: Hcl::Block("check_restart"), ty: Ty::Ptr(&Ty::Struct(&CHECK_RESTART)), omit_empty: false },
        Field { json: "GRPCService", hcl: Hcl::Attr("grpc_service"), ty: Ty::Str, omit_empty: false },
        Field { json: "GRPCUseTLS", hcl: Hcl::Attr("grpc_use_tls"), ty: Ty::Bool, omit_empty: false },
        Field { json: "TaskName", hcl: Hcl::Attr("task"), ty: Ty::Str, omit_empty: false },
        Field { json: "SuccessBeforePassing", hcl: Hcl::Attr("success_before_passing"), ty: Ty::Int, omit_empty: false },
        Field { json: "FailuresBeforeCritical", hcl: Hcl::Attr("failures_before_critical"), ty: Ty::Int, omit_empty: false },
        Field { json: "Body", hcl: Hcl::Attr("body"), ty: Ty::Str, omit_empty: false },
        Field { json: "OnUpdate", hcl: Hcl::Attr("on_update"), ty: Ty::Str, omit_empty: false },
    ],
};

/// `CheckRestart`
#[rustfmt::skip]
pub static CHECK_RESTART: Struct = Struct {
    name: "CheckRestart",
    fields: &[
        Field { json: "Limit", hcl: Hcl::Attr("limit"), ty: Ty::Int, omit_empty: false },
        Field { json: "Grace", hcl: Hcl::Attr("grace"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "IgnoreWarnings", hcl: Hcl::Attr("ignore_warnings"), ty: Ty::Bool, omit_empty: false },
    ],
};

/// `ConsulConnect`
#[rustfmt::skip]
pub static CONSUL_CONNECT: Struct = Struct {
    name: "ConsulConnect",
    fields: &[
        Field { json: "Native", hcl: Hcl::Attr("native"), ty: Ty::Bool, omit_empty: false },
        Field { json: "Gateway", hcl: Hcl::Block("gateway"), ty: Ty::Ptr(&Ty::Struct(&CONSUL_GATEWAY)), omit_empty: false },
        Field { json: "SidecarService", hcl: Hcl::Block("sidecar_service"), ty: Ty::Ptr(&Ty::Struct(&CONSUL_SIDECAR_SERVICE)), omit_empty: false },
        Field { json: "SidecarTask", hcl: Hcl::Block("sidecar_task"), ty: Ty::Ptr(&Ty::Struct(&SIDECAR_TASK)), omit_empty: false },
    ],
};

/// `RequestedDevice`
#[rustfmt::skip]
pub static REQUESTED_DEVICE: Struct = Struct {
    name: "RequestedDevice",
    fields: &[
        Field { json: "Name", hcl: Hcl::Label, ty: Ty::Str, omit_empty: false },
        Field { json: "Count", hcl: Hcl::Attr("count"), ty: Ty::Ptr(&Ty::Uint), omit_empty: false },
        Field { json: "Constraints", hcl: Hcl::Block("constraint"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&CONSTRAINT))), omit_empty: false },
        Field { json: "Affinities", hcl: Hcl::Block("affinity"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&AFFINITY))), omit_empty: false },
    ],
};

/// `ChangeScript`
#[rustfmt::skip]
pub static CHANGE_SCRIPT: Struct = Struct {
    name: "ChangeScript",
    fields: &[
        Field { json: "Command", hcl: Hcl::Required("command"), ty: Ty::Ptr(&Ty::Str), omit_empty: false },
        Field { json: "Args", hcl: Hcl::Attr("args"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
        Field { json: "Timeout", hcl: Hcl::Attr("timeout"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "FailOnError", hcl: Hcl::Required("fail_on_error"), ty: Ty::Ptr(&Ty::Bool), omit_empty: false },
    ],
};

/// `WaitConfig`
#[rustfmt::skip]
pub static WAIT_CONFIG: Struct = Struct {
    name: "WaitConfig",
    fields: &[
        Field { json: "Min", hcl: Hcl::Required("min"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "Max", hcl: Hcl::Required("max"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
    ],
};

/// `CSIMountOptions`
#[rustfmt::skip]
pub static CSI_MOUNT_OPTIONS: Struct = Struct {
    name: "CSIMountOptions",
    fields: &[
        Field { json: "FSType", hcl: Hcl::Attr("fs_type"), ty: Ty::Str, omit_empty: false },
        Field { json: "MountFlags", hcl: Hcl::Attr("mount_flags"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
    ],
};

/// `DNSConfig`
#[rustfmt::skip]
pub static DNS_CONFIG: Struct = Struct {
    name: "DNSConfig",
    fields: &[
        Field { json: "Servers", hcl: Hcl::Attr("servers"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
        Field { json: "Searches", hcl: Hcl::Attr("searches"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
        Field { json: "Options", hcl: Hcl::Attr("options"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
    ],
};

/// `Port`
#[rustfmt::skip]
pub static PORT: Struct = Struct {
    name: "Port",
    fields: &[
        Field { json: "Label", hcl: Hcl::Label, ty: Ty::Str, omit_empty: false },
        Field { json: "Value", hcl: Hcl::Attr("static"), ty: Ty::Int, omit_empty: false },
        Field { json: "To", hcl: Hcl::Attr("to"), ty: Ty::Int, omit_empty: false },
        Field { json: "HostNetwork", hcl: Hcl::Attr("host_network"), ty: Ty::Str, omit_empty: false },
    ],
};

/// `ConsulGateway`
#[rustfmt::skip]
pub static CONSUL_GATEWAY: Struct = Struct {
    name: "ConsulGateway",
    fields: &[
        Field { json: "Proxy", hcl: Hcl::Block("proxy"), ty: Ty::Ptr(&Ty::Struct(&CONSUL_GATEWAY_PROXY)), omit_empty: false },
        Field { json: "Ingress", hcl: Hcl::Block("ingress"), ty: Ty::Ptr(&Ty::Struct(&CONSUL_INGRESS_CONFIG_ENTRY)), omit_empty: false },
        Field { json: "Terminating", hcl: Hcl::Block("terminating"), ty: Ty::Ptr(&Ty::Struct(&CONSUL_TERMINATING_CONFIG_ENTRY)), omit_empty: false },
        Field { json: "Mesh", hcl: Hcl::Block("mesh"), ty: Ty::Ptr(&Ty::Struct(&CONSUL_MESH_CONFIG_ENTRY)), omit_empty: false },
    ],
};

/// `ConsulSidecarService`
#[rustfmt::skip]
pub static CONSUL_SIDECAR_SERVICE: Struct = Struct {
    name: "ConsulSidecarService",
    fields: &[
        Field { json: "Tags", hcl: Hcl::Attr("tags"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
        Field { json: "Port", hcl: Hcl::Attr("port"), ty: Ty::Str, omit_empty: false },
        Field { json: "Proxy", hcl: Hcl::Block("proxy"), ty: Ty::Ptr(&Ty::Struct(&CONSUL_PROXY)), omit_empty: false },
        Field { json: "DisableDefaultTCPCheck", hcl: Hcl::Attr("disable_default_tcp_check"), ty: Ty::Bool, omit_empty: false },
        Field { json: "Meta", hcl: Hcl::Block("meta"), ty: Ty::Map(&Ty::Str), omit_empty: false },
    ],
};

/// `SidecarTask`
#[rustfmt::skip]
pub static SIDECAR_TASK: Struct = Struct {
    name: "SidecarTask",
    fields: &[
        Field { json: "Name", hcl: Hcl::Attr("name"), ty: Ty::Str, omit_empty: false },
        Field { json: "Driver", hcl: Hcl::Attr("driver"), ty: Ty::Str, omit_empty: false },
        Field { json: "User", hcl: Hcl::Attr("user"), ty: Ty::Str, omit_empty: false },
        Field { json: "Config", hcl: Hcl::Block("config"), ty: Ty::Map(&Ty::Any), omit_empty: false },
        Field { json: "Env", hcl: Hcl::Block("env"), ty: Ty::Map(&Ty::Str), omit_empty: false },
        Field { json: "Resources", hcl: Hcl::Block("resources"), ty: Ty::Ptr(&Ty::Struct(&RESOURCES)), omit_empty: false },
        Field { json: "Meta", hcl: Hcl::Block("meta"), ty: Ty::Map(&Ty::Str), omit_empty: false },
        Field { json: "KillTimeout", hcl: Hcl::Attr("kill_timeout"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "LogConfig", hcl: Hcl::Block("logs"), ty: Ty::Ptr(&Ty::Struct(&LOG_CONFIG)), omit_empty: false },
        Field { json: "ShutdownDelay", hcl: Hcl::Attr("shutdown_delay"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "KillSignal", hcl: Hcl::Attr("kill_signal"), ty: Ty::Str, omit_empty: false },
    ],
};

/// `ConsulGatewayProxy`
#[rustfmt::skip]
pub static CONSUL_GATEWAY_PROXY: Struct = Struct {
    name: "ConsulGatewayProxy",
    fields: &[
        Field { json: "ConnectTimeout", hcl: Hcl::Attr("connect_timeout"), ty: Ty::Ptr(&Ty::Duration), omit_empty: false },
        Field { json: "EnvoyGatewayBindTaggedAddresses", hcl: Hcl::Attr("envoy_gateway_bind_tagged_addresses"), ty: Ty::Bool, omit_empty: false },
        Field { json: "EnvoyGatewayBindAddresses", hcl: Hcl::Block("envoy_gateway_bind_addresses"), ty: Ty::Map(&Ty::Ptr(&Ty::Struct(&CONSUL_GATEWAY_BIND_ADDRESS))), omit_empty: false },
        Field { json: "EnvoyGatewayNoDefaultBind", hcl: Hcl::Attr("envoy_gateway_no_default_bind"), ty: Ty::Bool, omit_empty: false },
        Field { json: "EnvoyDNSDiscoveryType", hcl: Hcl::Attr("envoy_dns_discovery_type"), ty: Ty::Str, omit_empty: false },
        Field { json: "Config", hcl: Hcl::Block("config"), ty: Ty::Map(&Ty::Any), omit_empty: false },
    ],
};

/// `ConsulIngressConfigEntry`
#[rustfmt::skip]
pub static CONSUL_INGRESS_CONFIG_ENTRY: Struct = Struct {
    name: "ConsulIngressConfigEntry",
    fields: &[
        Field { json: "TLS", hcl: Hcl::Block("tls"), ty: Ty::Ptr(&Ty::Struct(&CONSUL_GATEWAYTLS_CONFIG)), omit_empty: false },
        Field { json: "Listeners", hcl: Hcl::Block("listener"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&CONSUL_INGRESS_LISTENER))), omit_empty: false },
    ],
};

/// `ConsulTerminatingConfigEntry`
#[rustfmt::skip]
pub static CONSUL_TERMINATING_CONFIG_ENTRY: Struct = Struct {
    name: "ConsulTerminatingConfigEntry",
    fields: &[
        Field { json: "Services", hcl: Hcl::Block("service"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&CONSUL_LINKED_SERVICE))), omit_empty: false },
    ],
};

/// `ConsulMeshConfigEntry`
#[rustfmt::skip]
pub static CONSUL_MESH_CONFIG_ENTRY: Struct = Struct {
    name: "ConsulMeshConfigEntry",
    fields: &[
    ],
};

/// `ConsulProxy`
#[rustfmt::skip]
pub static CONSUL_PROXY: Struct = Struct {
    name: "ConsulProxy",
    fields: &[
        Field { json: "LocalServiceAddress", hcl: Hcl::Attr("local_service_address"), ty: Ty::Str, omit_empty: false },
        Field { json: "LocalServicePort", hcl: Hcl::Attr("local_service_port"), ty: Ty::Int, omit_empty: false },
        Field { json: "Expose", hcl: Hcl::Block("expose"), ty: Ty::Ptr(&Ty::Struct(&CONSUL_EXPOSE_CONFIG)), omit_empty: false },
        Field { json: "ExposeConfig", hcl: Hcl::Skip, ty: Ty::Ptr(&Ty::Struct(&CONSUL_EXPOSE_CONFIG)), omit_empty: false },
        Field { json: "Upstreams", hcl: Hcl::Block("upstreams"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&CONSUL_UPSTREAM))), omit_empty: false },
        Field { json: "Config", hcl: Hcl::Block("config"), ty: Ty::Map(&Ty::Any), omit_empty: false },
    ],
};

/// `ConsulGatewayBindAddress`
#[rustfmt::skip]
pub static CONSUL_GATEWAY_BIND_ADDRESS: Struct = Struct {
    name: "ConsulGatewayBindAddress",
    fields: &[
        Field { json: "Name", hcl: Hcl::Label, ty: Ty::Str, omit_empty: false },
        Field { json: "Address", hcl: Hcl::Attr("address"), ty: Ty::Str, omit_empty: false },
        Field { json: "Port", hcl: Hcl::Attr("port"), ty: Ty::Int, omit_empty: false },
    ],
};

/// `ConsulGatewayTLSConfig`
#[rustfmt::skip]
pub static CONSUL_GATEWAYTLS_CONFIG: Struct = Struct {
    name: "ConsulGatewayTLSConfig",
    fields: &[
        Field { json: "Enabled", hcl: Hcl::Attr("enabled"), ty: Ty::Bool, omit_empty: false },
        Field { json: "TLSMinVersion", hcl: Hcl::Attr("tls_min_version"), ty: Ty::Str, omit_empty: false },
        Field { json: "TLSMaxVersion", hcl: Hcl::Attr("tls_max_version"), ty: Ty::Str, omit_empty: false },
        Field { json: "CipherSuites", hcl: Hcl::Attr("cipher_suites"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
    ],
};

/// `ConsulIngressListener`
#[rustfmt::skip]
pub static CONSUL_INGRESS_LISTENER: Struct = Struct {
    name: "ConsulIngressListener",
    fields: &[
        Field { json: "Port", hcl: Hcl::Attr("port"), ty: Ty::Int, omit_empty: false },
        Field { json: "Protocol", hcl: Hcl::Attr("protocol"), ty: Ty::Str, omit_empty: false },
        Field { json: "Services", hcl: Hcl::Block("service"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&CONSUL_INGRESS_SERVICE))), omit_empty: false },
    ],
};

/// `ConsulLinkedService`
#[rustfmt::skip]
pub static CONSUL_LINKED_SERVICE: Struct = Struct {
    name: "ConsulLinkedService",
    fields: &[
        Field { json: "Name", hcl: Hcl::Attr("name"), ty: Ty::Str, omit_empty: false },
        Field { json: "CAFile", hcl: Hcl::Attr("ca_file"), ty: Ty::Str, omit_empty: false },
        Field { json: "CertFile", hcl: Hcl::Attr("cert_file"), ty: Ty::Str, omit_empty: false },
        Field { json: "KeyFile", hcl: Hcl::Attr("key_file"), ty: Ty::Str, omit_empty: false },
        Field { json: "SNI", hcl: Hcl::Attr("sni"), ty: Ty::Str, omit_empty: false },
    ],
};

/// `ConsulExposeConfig`
#[rustfmt::skip]
pub static CONSUL_EXPOSE_CONFIG: Struct = Struct {
    name: "ConsulExposeConfig",
    fields: &[
        Field { json: "Paths", hcl: Hcl::Block("path"), ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&CONSUL_EXPOSE_PATH))), omit_empty: false },
        Field { json: "Path", hcl: Hcl::Skip, ty: Ty::Slice(&Ty::Ptr(&Ty::Struct(&CONSUL_EXPOSE_PATH))), omit_empty: false },
    ],
};

/// `ConsulUpstream`
#[rustfmt::skip]
pub static CONSUL_UPSTREAM: Struct = Struct {
    name: "ConsulUpstream",
    fields: &[
        Field { json: "DestinationName", hcl: Hcl::Attr("destination_name"), ty: Ty::Str, omit_empty: false },
        Field { json: "DestinationNamespace", hcl: Hcl::Attr("destination_namespace"), ty: Ty::Str, omit_empty: false },
        Field { json: "DestinationPeer", hcl: Hcl::Attr("destination_peer"), ty: Ty::Str, omit_empty: false },
        Field { json: "DestinationType", hcl: Hcl::Attr("destination_type"), ty: Ty::Str, omit_empty: false },
        Field { json: "LocalBindPort", hcl: Hcl::Attr("local_bind_port"), ty: Ty::Int, omit_empty: false },
        Field { json: "Datacenter", hcl: Hcl::Attr("datacenter"), ty: Ty::Str, omit_empty: false },
        Field { json: "LocalBindAddress", hcl: Hcl::Attr("local_bind_address"), ty: Ty::Str, omit_empty: false },
        Field { json: "LocalBindSocketPath", hcl: Hcl::Attr("local_bind_socket_path"), ty: Ty::Str, omit_empty: false },
        Field { json: "LocalBindSocketMode", hcl: Hcl::Attr("local_bind_socket_mode"), ty: Ty::Str, omit_empty: false },
        Field { json: "MeshGateway", hcl: Hcl::Block("mesh_gateway"), ty: Ty::Ptr(&Ty::Struct(&CONSUL_MESH_GATEWAY)), omit_empty: false },
        Field { json: "Config", hcl: Hcl::Block("config"), ty: Ty::Map(&Ty::Any), omit_empty: false },
    ],
};

/// `ConsulIngressService`
#[rustfmt::skip]
pub static CONSUL_INGRESS_SERVICE: Struct = Struct {
    name: "ConsulIngressService",
    fields: &[
        Field { json: "Name", hcl: Hcl::Attr("name"), ty: Ty::Str, omit_empty: false },
        Field { json: "Hosts", hcl: Hcl::Attr("hosts"), ty: Ty::Slice(&Ty::Str), omit_empty: false },
    ],
};

/// `ConsulExposePath`
#[rustfmt::skip]
pub static CONSUL_EXPOSE_PATH: Struct = Struct {
    name: "ConsulExposePath",
    fields: &[
        Field { json: "Path", hcl: Hcl::Attr("path"), ty: Ty::Str, omit_empty: false },
        Field { json: "Protocol", hcl: Hcl::Attr("protocol"), ty: Ty::Str, omit_empty: false },
        Field { json: "LocalPathPort", hcl: Hcl::Attr("local_path_port"), ty: Ty::Int, omit_empty: false },
        Field { json: "ListenerPort", hcl: Hcl::Attr("listener_port"), ty: Ty::Str, omit_empty: false },
    ],
};

/// `ConsulMeshGateway`
#[rustfmt::skip]
pub static CONSUL_MESH_GATEWAY: Struct = Struct {
    name: "ConsulMeshGateway",
    fields: &[
        Field { json: "Mode", hcl: Hcl::Attr("mode"), ty: Ty::Str, omit_empty: false },
    ],
};
