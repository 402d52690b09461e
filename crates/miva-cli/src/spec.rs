//! `miva spec [FUNCTION]`: what the published API spec says about a
//! function (its fields, list columns, response), or the list of functions.

use std::io::Write;

use clap::Args;
use miva_envelope::spec::{FunctionSpec, api_spec};

use crate::secrets::CliError;

/// Show a function's parameters, list columns and response from the API
/// spec (258 functions, from merchantapi 2.7.0); without FUNCTION, list
/// every function.
#[derive(Debug, Args)]
pub(crate) struct SpecArgs {
    /// A function name, in any letter case, e.g. Product_Update.
    function: Option<String>,
}

pub(crate) fn run(args: &SpecArgs) -> Result<(), CliError> {
    let spec = api_spec();
    let mut out = std::io::stdout().lock();
    let Some(name) = &args.function else {
        for f in &spec.functions {
            let kind = match (&f.list_query, f.response.model.as_deref()) {
                (Some(_), Some(model)) => format!("list of {model}"),
                (None, Some(model)) => format!("returns {model}"),
                _ => String::new(),
            };
            writeln!(out, "{:<48} {:<7} {kind}", f.name, f.scope)?;
        }
        return Ok(());
    };
    show(name)
}

/// Prints what the spec says about the function `name`.
pub(crate) fn show(name: &str) -> Result<(), CliError> {
    let f = api_spec().function(name).ok_or_else(|| unknown(name))?;
    let mut out = std::io::stdout().lock();
    describe(&mut out, f)?;
    Ok(())
}

/// The error for a name the spec does not have, with suggestions.
pub(crate) fn unknown(name: &str) -> CliError {
    let suggestions = api_spec().suggest(name);
    if suggestions.is_empty() {
        CliError(format!(
            "{name:?} is not a function of the API spec; `miva spec` lists them all"
        ))
    } else {
        CliError(format!(
            "{name:?} is not a function of the API spec; did you mean {}?",
            suggestions.join(" or ")
        ))
    }
}

/// Warns on stderr when `name` is not in the spec (module or newer store
/// functions are sent anyway).
pub(crate) fn check_name(name: &str, list: bool) {
    match api_spec().function(name) {
        Some(f) if f.name != name => eprintln!(
            "miva: warning: the function is spelled {:?}; the store may not accept {name:?}",
            f.name
        ),
        Some(f) if list && f.list_query.is_none() => eprintln!(
            "miva: warning: {} is not a list query in the API spec; paging may not work",
            f.name
        ),
        Some(f) if list && f.response.kind != "list_page" => eprintln!(
            "miva: warning: {} answers with one list, not pages, in the API spec; \
             `miva call {}` prints it",
            f.name, f.name
        ),
        Some(_) => {}
        None => eprintln!("miva: warning: {} (sent anyway)", unknown(name).0),
    }
}

fn describe(out: &mut impl Write, f: &FunctionSpec) -> std::io::Result<()> {
    writeln!(out, "{} ({}-scoped)", f.name, f.scope)?;
    if f.request.fields.is_empty() {
        writeln!(out, "\nparameters: none besides the envelope")?;
    } else {
        writeln!(out, "\nparameters:")?;
        for field in &f.request.fields {
            let note = if field.always_sent {
                "  (always sent by the official SDK)"
            } else {
                ""
            };
            writeln!(out, "  {:<40} {}{note}", field.name, field.kind)?;
        }
    }
    for group in &f.request.one_of {
        writeln!(out, "  one of: {}", group.join(", "))?;
    }
    if let Some(q) = &f.list_query {
        writeln!(out, "\nlist query (Count, Offset, Sort, Filter):")?;
        writeln!(out, "  search:    {}", q.search.join(", "))?;
        writeln!(out, "  sort:      {}", q.sort.join(", "))?;
        if !q.on_demand.is_empty() {
            writeln!(out, "  on demand: {}", q.on_demand.join(", "))?;
        }
        for (filter, values) in &q.custom_filters {
            if values.is_empty() {
                writeln!(out, "  filter {filter}")?;
            } else {
                writeln!(out, "  filter {filter}: {}", values.join(", "))?;
            }
        }
    }
    let response = match (f.response.kind.as_str(), f.response.model.as_deref()) {
        ("list_page", Some(m)) => format!("a page of {m} (total_count, start_offset, data)"),
        ("list", Some(m)) => format!("a list of {m}"),
        ("model", Some(m)) => m.to_owned(),
        _ => "no data".to_owned(),
    };
    writeln!(out, "\nresponse: {response}")?;
    Ok(())
}
