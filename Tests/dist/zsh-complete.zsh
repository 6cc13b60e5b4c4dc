# zsh-complete.zsh WORDS: types WORDS and a Tab into an interactive zsh (zsh -f -i, compinit on
# zsh's default fpath, emacs keys) on a pseudo-terminal (zsh/zpty), then prints the line as
# completion left it. Keystrokes are queued: zle takes the Tab first, then Ctrl-A puts
# `print -r -- COMPLETED: ` before the line and Return runs it, so the shell prints the
# completed line itself; the read waits for that output, not for a clock (run it under
# `timeout`). Output: the completed line, e.g. "fpga-lab flash ".
# Run with `zsh -f` from an empty directory (file names must not complete).
zmodload zsh/zpty || exit 2
zpty shell 'zsh -f -i'
zpty -w shell 'PS1="> "; PS2=""; autoload -Uz compinit && compinit -u -D; bindkey -e'
zpty -w -n shell "$1"$'\t\C-aprint -r -- COMPLETED: \n'
zpty -r -m shell out $'*\nCOMPLETED: *\n' || exit 1
line=${${(f)out}[-1]}
print -r -- "${${line%$'\r'}#COMPLETED: }"
zpty -d shell
