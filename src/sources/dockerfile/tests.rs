//! The front-end end to end: text in, image sites and stage graphs out.

use super::*;
use std::collections::BTreeMap;

fn run(text: &str) -> Vec<ImageSite> {
    extract(text, &SourceOptions::default()).unwrap_or_else(|e| panic!("{e:?}"))
}

fn with_args(text: &str, args: &[(&str, &str)]) -> Vec<ImageSite> {
    let options = SourceOptions {
        build_args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        ..SourceOptions::default()
    };
    extract(text, &options).unwrap()
}

fn resolved(site: &ImageSite) -> &str {
    match &site.value {
        SiteValue::Resolved { text, .. } => text,
        SiteValue::Unresolved { missing } => panic!("unresolved: {missing:?}"),
        SiteValue::Mirror(m) => panic!("mirror: {m:?}"),
    }
}

fn at(text: &str, span: Span) -> &str {
    &text[span.start..span.end]
}

fn err(text: &str) -> String {
    extract(text, &SourceOptions::default())
        .unwrap_err()
        .message
}

#[test]
fn from_with_platform_and_alias_in_any_case() {
    let text = "from --platform=$BUILDPLATFORM node:20 as Build\nFrOm build\n";
    let sites = run(text);
    assert_eq!(sites.len(), 1, "the second FROM names a stage");
    assert_eq!(sites[0].kind, SiteKind::From);
    assert_eq!(at(text, sites[0].span), "node:20");
    assert_eq!(sites[0].stage.as_deref(), Some("build"));
    assert!(sites[0].reference().is_some());
}

#[test]
fn syntax_directive_and_escape_backtick() {
    let text = "# syntax = docker/dockerfile:1.7\n# escape=`\nFROM windows/servercore:ltsc2022 `\n  AS base\nRUN dir c:\\ `\n && echo hi\n";
    let sites = run(text);
    assert_eq!(sites.len(), 2);
    assert_eq!(sites[0].kind, SiteKind::SyntaxDirective);
    assert_eq!(at(text, sites[0].span), "docker/dockerfile:1.7");
    assert_eq!(sites[1].stage.as_deref(), Some("base"));
    // A directive after an instruction or a blank line is a comment.
    let text = "\n# syntax=docker/dockerfile:1\nFROM a:1\n";
    assert_eq!(run(text).len(), 1);
    assert!(err("# escape=x\nFROM a\n").contains("invalid escape token"));
    assert!(err("# syntax=a\n# syntax=b\nFROM a\n").contains("only one syntax"));
}

#[test]
fn continuations_skip_comments_and_blank_lines() {
    let text = "FROM \\\n# a comment\n\n   docker.io/library/node:20 \\\n  AS app\nRUN echo \\";
    let sites = run(text);
    assert_eq!(sites.len(), 1);
    assert_eq!(at(text, sites[0].span), "docker.io/library/node:20");
    assert_eq!(sites[0].stage.as_deref(), Some("app"));
    // A reference split across lines maps back piece by piece.
    let text = "FROM docker.io/library/no\\\nde:20\n";
    let site = &run(text)[0];
    assert_eq!(resolved(site), "docker.io/library/node:20");
    let SiteValue::Resolved { pieces, .. } = &site.value else {
        panic!()
    };
    assert_eq!(pieces.len(), 2);
    assert_eq!(site.map_to_file(Span::new(0, 0)), Some(Span::new(5, 5)));
}

#[test]
fn heredocs_many_chomped_and_quoted() {
    let text = "FROM a:1\nRUN <<EOF <<-'EOT' cat\nFROM not-an-image\nEOF\n\tFROM also-not\n\tEOT\nCOPY <<\"X\" /x\n$HOME\nX\nFROM b:2\n";
    let sites = run(text);
    let refs: Vec<&str> = sites.iter().map(resolved).collect();
    assert_eq!(refs, ["a:1", "b:2"]);
    assert!(err("FROM a\nRUN <<EOF\nno end\n").contains("unterminated heredoc"));
    // The JSON form has no heredocs, and `<<` inside quotes is not one.
    let text = "FROM a:1\nRUN [\"sh\", \"-c\", \"cat <<EOF\"]\nRUN echo \"<<EOF\"\nFROM b:2\n";
    assert_eq!(run(text).len(), 2);
}

#[test]
fn crlf_and_bom_keep_byte_offsets() {
    let text = "\u{feff}FROM node:20\r\nRUN x \\\r\n y\r\nFROM alpine:3.20";
    let sites = run(text);
    assert_eq!(sites.len(), 2);
    assert_eq!(at(text, sites[0].span), "node:20");
    assert_eq!(sites[0].span.start, 8);
    assert_eq!(at(text, sites[1].span), "alpine:3.20");
}

#[test]
fn copy_from_and_run_mount_from() {
    let text = "FROM golang:1.23 AS build\nFROM alpine:3.20\nCOPY --chown=1:1 --from=build /a /a\nCOPY --from=0 /a /b\nCOPY --link --from=nginx:1.27 /etc/nginx /etc/nginx\nRUN --mount=type=cache,target=/c --mount=type=bind,from=busybox:1.36,target=/bb true\nRUN --mount=from=BUILD,target=/x true\nCOPY --from=later /x /x\nFROM scratch AS later\n";
    let sites = run(text);
    let got: Vec<(SiteKind, &str)> = sites.iter().map(|s| (s.kind, at(text, s.span))).collect();
    assert_eq!(
        got,
        [
            (SiteKind::From, "golang:1.23"),
            (SiteKind::From, "alpine:3.20"),
            (SiteKind::CopyFrom, "nginx:1.27"),
            (SiteKind::RunMountFrom, "busybox:1.36"),
        ]
    );
}

#[test]
fn scratch_and_stage_names_are_not_images() {
    let text =
        "ARG BASE=scratch\nFROM ${BASE} AS Base\nFROM SCRATCH\nFROM base\nFROM BASE AS other\n";
    assert!(run(text).is_empty());
}

#[test]
fn arg_defaults_record_their_span() {
    let text = "ARG A B=1 REG=docker.io\nARG IMAGE=\"node\"\nFROM ${REG}/library/${IMAGE}:20\n";
    let site = &run(text)[0];
    assert_eq!(resolved(site), "docker.io/library/node:20");
    let SiteValue::Resolved { pieces, .. } = &site.value else {
        panic!()
    };
    let mapped: Vec<&str> = pieces.iter().map(|p| at(text, p.file.unwrap())).collect();
    assert_eq!(mapped, ["docker.io", "/library/", "node", ":20"]);
    // An edit at the start of the reference lands on the ARG line.
    let ins = site.map_to_file(Span::new(0, 0)).unwrap();
    assert_eq!(ins.start, text.find("docker.io").unwrap());
}

#[test]
fn build_args_override_declared_args_only() {
    let text = "ARG TAG=18\nFROM node:${TAG}\nFROM node:${OTHER:-22}\n";
    let sites = with_args(text, &[("TAG", "20"), ("OTHER", "x")]);
    assert_eq!(resolved(&sites[0]), "node:20");
    assert_eq!(
        sites[0].map_to_file(Span::new(5, 7)),
        None,
        "override is not in the file"
    );
    assert_eq!(
        resolved(&sites[1]),
        "node:22",
        "undeclared ARGs are not overridden"
    );
}

#[test]
fn expansion_forms() {
    let text = "ARG SET=x\nARG EMPTY=\nARG UNSET\nFROM a${SET:+-plus}:${UNSET:-dflt}\nFROM b:${EMPTY-kept}${EMPTY:-colon}\nFROM c:${SET+p}${UNSET+q}1\nFROM d:\\$x\n";
    let sites = run(text);
    let refs: Vec<&str> = sites.iter().map(resolved).collect();
    assert_eq!(refs, ["a-plus:dflt", "b:colon", "c:p1", "d:$x"]);
    // The default inside `${V:-default}` is in the file, so it is editable.
    let SiteValue::Resolved { pieces, .. } = &sites[0].value else {
        panic!()
    };
    assert!(
        pieces
            .iter()
            .any(|p| p.file.is_some_and(|f| at(text, f) == "dflt"))
    );
}

#[test]
fn unset_variables_are_reported_not_guessed() {
    let text = "ARG BASE\nFROM ${BASE}\nFROM node:${UNDECLARED}\nFROM x:${Q:?needit}\nFROM y:$TARGETARCH\n";
    let sites = run(text);
    let missing: Vec<Vec<String>> = sites
        .iter()
        .map(|s| match &s.value {
            SiteValue::Unresolved { missing } => missing.clone(),
            SiteValue::Resolved { .. } | SiteValue::Mirror(_) => vec![],
        })
        .collect();
    assert_eq!(
        missing,
        [
            vec!["BASE"],
            vec!["UNDECLARED"],
            vec!["Q"],
            vec!["TARGETARCH"]
        ]
    );
}

#[test]
fn stage_args_and_meta_args() {
    // Only ARGs before the first FROM reach FROM lines; a stage ARG
    // without a value takes the meta ARG's.
    let text = "ARG V=1\nFROM a:${V}\nARG W=2\nFROM b:${W}\nARG V\nCOPY --from=c:${V} / /\n";
    let sites = run(text);
    assert_eq!(resolved(&sites[0]), "a:1");
    assert!(matches!(sites[1].value, SiteValue::Unresolved { .. }));
    assert_eq!(resolved(&sites[2]), "c:1");
}

#[test]
fn errors_docker_build_reports() {
    assert_eq!(err(""), "file with no instructions");
    assert_eq!(err("# just a comment\n\n"), "file with no instructions");
    assert_eq!(err("RUN true\n"), "no build stage in current context");
    assert_eq!(err("ARG A=1\n"), "dockerfile contains no stages to build");
    assert_eq!(
        err("FROM a b\n"),
        "FROM requires either one or three arguments"
    );
    assert!(err("FROM a\nFOO bar\n").starts_with("unknown instruction: FOO"));
    // Buildah accepts what BuildKit rejects as a stage name (STG007 warns).
    assert_eq!(
        run("FROM a:1 AS platform-arm/v7\nFROM platform-arm/v7\n").len(),
        1
    );
    let e = extract("FROM a\nBOGUS x\n", &SourceOptions::default()).unwrap_err();
    assert_eq!(e.span, Span::new(7, 12));
}

#[test]
fn json_form_and_onbuild() {
    let text = "FROM a:1\nCMD [\"node\", \"app.js\"]\nONBUILD RUN <<EOF\nFROM x\nEOF\nENTRYPOINT [\"sh\"]\n";
    assert_eq!(run(text).len(), 1);
}

#[test]
fn never_panics() {
    let samples = [
        "\\",
        "FROM \\",
        "FROM a\\\n",
        "FROM ${",
        "FROM ${A",
        "FROM ${A:-",
        "FROM ${A:-${B",
        "FROM $",
        "FROM a\nRUN <<",
        "FROM a\nRUN <<-",
        "FROM a\nCOPY --from= / /",
        "FROM a\nRUN --mount=from= x",
        "FROM \"a",
        "FROM 'a",
        "FROM a\"b'c",
        "\u{feff}",
        "\u{feff}FROM",
        "FROM é:ü",
        "FROM ${é}",
        "\r\n\r\n",
        "FROM a\r",
        "# escape=`\nFROM a`",
        "FROM a\nARG \"",
        "FROM a\nARG =x",
        "FROM --platform",
        "FROM a AS",
        "FROM \u{0}",
        "ONBUILD",
        "FROM a\nONBUILD RUN <<E\nE",
    ];
    for s in samples {
        let _ = extract(s, &SourceOptions::default());
    }
    // Every prefix of a realistic file.
    let text = "# syntax=docker/dockerfile:1\nARG B=node:20\nFROM ${B} AS x\nRUN --mount=type=bind,from=busybox,target=/b <<EOF\nls\nEOF\nCOPY --from=x / /\n";
    for end in 0..=text.len() {
        if text.is_char_boundary(end) {
            let _ = extract(&text[..end], &SourceOptions::default());
        }
    }
    let mut state = 7u64;
    for _ in 0..2000 {
        let len = (state % 60) as usize;
        let mut s = String::new();
        for _ in 0..len {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let pool = b"FROM ARG $ {}:-+?\\`\"'\n\r\t<<EOF a=b,@/.";
            s.push(pool[(state >> 33) as usize % pool.len()] as char);
        }
        let _ = extract(&s, &SourceOptions::default());
    }
}

#[test]
fn stage_graph_links_and_reach() {
    let text = "ARG BASE=base\nFROM alpine:3.20 AS base\nFROM golang:1.23 AS build\nFROM alpine:3.20 AS cache\nFROM alpine:3.20 AS orphan\nFROM busybox:1.36\nFROM ${BASE} AS final\nCOPY --from=build /a /a\nRUN --mount=type=cache,target=/c,from=cache true\nCOPY --from=4 /b /b\n";
    let graph = stage_graph(text, &SourceOptions::default()).unwrap();
    assert_eq!(graph.stages.len(), 6);
    assert_eq!(graph.stages[5].parent, Some(0));
    assert_eq!(graph.stages[5].uses, vec![1, 2, 4]);
    assert_eq!(graph.reachable(), vec![true, true, true, false, true, true]);
    assert_eq!(graph.runs.len(), 1);
    assert!(graph.meta_args.contains(&"BASE".to_string()));
}

#[test]
fn stage_graph_names_and_platforms() {
    let text = "FROM --platform=$TARGETPLATFORM scratch AS Base\nFROM base\n";
    let graph = stage_graph(text, &SourceOptions::default()).unwrap();
    let first = &graph.stages[0];
    assert_eq!(first.name.as_ref().map(|n| n.0.as_str()), Some("Base"));
    let (platform, span) = first.platform.clone().unwrap();
    assert_eq!(platform, "$TARGETPLATFORM");
    assert_eq!(&text[span.start..span.end], "$TARGETPLATFORM");
    assert_eq!(graph.stages[1].parent, Some(0));
    assert_eq!(graph.reachable(), vec![true, true]);
}

#[test]
fn a_base_that_picks_a_stage_through_a_variable_is_not_an_image() {
    let text = "FROM a:1 AS platform-amd64\nFROM a:1 AS platform-arm64\nFROM platform-${TARGETARCH} AS final\nARG BASE=b:2\nFROM ${BASE}\nFROM c:${TAG}\n";
    let got: Vec<String> = run(text).iter().map(|s| s.raw.clone()).collect();
    assert_eq!(got, ["a:1", "a:1", "${BASE}", "c:${TAG}"]);
}

#[test]
fn stage_references_a_build_argument_may_select() {
    let variable = |text: &str| {
        stage_graph(text, &SourceOptions::default())
            .unwrap()
            .variable_refs
    };
    let stages = "FROM a:1 AS build\nFROM build AS dev\n";
    // A variable whose default is a stage, that has none, or that has
    // fixed text around it may name any stage.
    assert!(variable(&format!(
        "{stages}FROM a:1\nARG V=dev\nCOPY --from=$V /x /x\n"
    )));
    assert!(variable(&format!(
        "{stages}FROM a:1\nARG V=dev\nCOPY --from=\"${{V}}\" /x /x\n"
    )));
    assert!(variable(&format!("{stages}ARG B\nFROM ${{B}}\n")));
    assert!(variable(&format!("{stages}FROM platform-${{T}}\n")));
    assert!(variable(&format!("ARG N=x\n{stages}FROM a:1 AS ${{N}}\n")));
    // A default that is an image names images; a tag or a registry path
    // is never a stage.
    assert!(!variable(&format!("ARG E=scratch\n{stages}FROM ${{E}}\n")));
    assert!(!variable(&format!("ARG B=alpine:3.20\n{stages}FROM $B\n")));
    assert!(!variable(&format!("ARG V=1\n{stages}FROM alpine:${{V}}\n")));
    assert!(!variable(&format!(
        "ARG R=r.example\n{stages}FROM ${{R}}/app:1\n"
    )));
}
