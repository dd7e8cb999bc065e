#!/usr/bin/env ruby
# frozen_string_literal: true

# monit525.rb -- does monit 5.2.5 accept this job `monit` file?
#
#   ruby tests/lint/monit525.rb FILE...
#
# BOSH's Jammy/Noble stemcells run monit 5.2.5 (2011), and every job's monit file is included
# into one monitrc: one file that 5.2.5 cannot parse stops monit and fails the deploy. A newer
# monit's `monit -t` accepts much more, so this is an independent re-implementation of 5.2.5's
# control-file lexer (a flex scanner, case-insensitive) and of the part of its bison grammar a
# job file uses. It was written from reading 5.2.5's lexer and grammar; the comments name the
# upstream lexer rule / grammar rule each piece mirrors.
#
# Output, on stderr, one line per finding:
#   FILE:LINE: monit 5.2.5 would reject: WHAT        (the grammar or a parse-time check fails)
#   FILE:LINE: not supported by this checker: WHAT   (5.2.5 may accept it; we fail closed)
#   FILE:LINE: warning: WHAT                          (5.2.5 accepts it, but it is almost surely wrong)
# Exit status: 0 every file accepted (warnings allowed), 1 a rejection or unsupported construct,
# 2 usage error (no file, unreadable file, unknown option).
#
# Deliberately out of scope: anything 5.2.5 decides from the VM it runs on (does the user in
# `as uid X` exist, does the executable exist, does a `depends on` target exist in some other
# job's file, checksums/filesystem sizes read at parse time). Each file is checked on its own.

require 'strscan'

module Monit525
  Token = Struct.new(:type, :value, :line, :text)
  Finding = Struct.new(:kind, :line, :text)

  # Raised to stop parsing: bison's yyparse() gives up at the first syntax error.
  class Abort < StandardError; end

  # ------------------------------------------------------------------------------------ lexer --
  # Emulates the flex scanner: at each position every rule of the current start condition is
  # tried, the longest match wins and ties go to the rule listed first (flex semantics), all
  # case-insensitively (monit builds its scanner with `flex -i`). This matters: e.g. `>80%`
  # lexes as the word `>80` (the hostname rule is longer than the `>` rule), `500MB` is one
  # word, and a `#` comment on the last line without a newline is a word, not a comment.
  class Lexer
    STR = '[^\x00-\x21@:{}"\';(),%]+'  # {str}: what a bare word may contain
    WS  = '[ \r\t]+'                    # {ws}
    WWS = '[ \r\t;,()]+'                # {wws}: ; , ( ) count as white space
    WS_OPT = '[ \r\t]*'                 # {ws}?
    WWS_OPT = '[ \r\t;,()]*'            # {wws}?

    # Words the scanner throws away wherever they appear ("noise" rules).
    NOISE = %w[is as are for on(?:ly)? with(?:in|out)? programs? and has using use the sum
               than usage was times but of does].freeze

    # Keyword rules, in the scanner's order, as [pattern, token].
    KEYWORDS = [
      %w[if IF], %w[or OR], %w[then THEN], %w[failed FAILED], %w[ssl HTTPDSSL],
      %w[enable ENABLE], %w[disable DISABLE], %w[set SET], %w[daemon DAEMON], %w[delay DELAY],
      %w[logfile LOGFILE], %w[syslog SYSLOG], %w[facility FACILITY], %w[httpd HTTPD],
      %w[address ADDRESS], %w[clientpemfile CLIENTPEMFILE],
      %w[allowselfcertification ALLOWSELFCERTIFICATION], %w[certmd5 CERTMD5],
      %w[pemfile PEMFILE], %w[init INIT], %w[allow ALLOW], %w[read-?only READONLY],
      %w[pidfile PIDFILE], %w[idfile IDFILE], %w[statefile STATEFILE], %w[path PATHTOK],
      %w[start START], %w[stop STOP], %w[port(?:number)? PORT], %w[unix(?:socket)? UNIXSOCKET],
      %w[type TYPE], %w[proto(?:col)? PROTOCOL], %w[tcp TCP], %w[tcpssl TCPSSL], %w[udp UDP],
      %w[alert ALERT], %w[noalert NOALERT], %w[mail-format MAILFORMAT], %w[resource RESOURCE],
      %w[restarts? RESTART], %w[cycles? CYCLE], %w[timeout TIMEOUT], %w[checksum CHECKSUM],
      %w[mailserver MAILSERVER], %w[every EVERY], %w[host HOST], %w[hostheader HOSTHEADER],
      %w[system SYSTEM], %w[default DEFAULT], %w[http HTTP], %w[apache-status APACHESTATUS],
      %w[ftp FTP], %w[smtp SMTP], %w[postfix-policy POSTFIXPOLICY], %w[pop POP], %w[imap IMAP],
      %w[clamav CLAMAV], %w[dns DNS], %w[mysql MYSQL], %w[nntp NNTP], %w[ntp3 NTP3],
      %w[ssh SSH], %w[dwp DWP], %w[ldap2 LDAP2], %w[ldap3 LDAP3], %w[rdate RDATE],
      %w[lmtp LMTP], %w[rsync RSYNC], %w[tns TNS], %w[pgsql PGSQL], %w[sip SIP], %w[gps GPS],
      %w[radius RADIUS], %w[memcache MEMCACHE], %w[target TARGET], %w[maxforward MAXFORWARD],
      %w[mode MODE], %w[active ACTIVE], %w[passive PASSIVE], %w[manual MANUAL], %w[uid UID],
      %w[gid GID], %w[request REQUEST], %w[secret SECRET], %w[loglimit LOGLIMIT],
      %w[closelimit CLOSELIMIT], %w[dnslimit DNSLIMIT], %w[keepalivelimit KEEPALIVELIMIT],
      %w[replylimit REPLYLIMIT], %w[requestlimit REQUESTLIMIT], %w[startlimit STARTLIMIT],
      %w[waitlimit WAITLIMIT], %w[gracefullimit GRACEFULLIMIT], %w[cleanuplimit CLEANUPLIMIT],
      %w[mem(?:ory)? MEMORY], %w[swap SWAP], %w[totalmem(?:ory)? TOTALMEMORY], %w[cpu CPU],
      %w[totalcpu TOTALCPU], %w[children CHILDREN], %w[timestamp TIMESTAMP],
      %w[changed CHANGED], %w[seconds? SECOND], %w[minutes? MINUTE], %w[hours? HOUR],
      %w[days? DAY], %w[sslv2 SSLV2], %w[sslv3 SSLV3], %w[tlsv1 TLSV1], %w[sslauto SSLAUTO],
      %w[inodes? INODE], %w[space SPACE], %w[perm(?:ission)? PERMISSION], %w[exec(?:ute)? EXEC],
      %w[size SIZE], %w[basedir BASEDIR], %w[slots? SLOT], %w[eventqueue EVENTQUEUE],
      %w[match(?:ing)? MATCH], %w[not NOT], %w[ignore IGNORE], %w[connection CONNECTION],
      %w[unmonitor UNMONITOR], %w[action ACTION], %w[icmp ICMP], %w[echo ICMPECHO],
      %w[send SEND], %w[expect EXPECT], %w[expectbuffer EXPECTBUFFER], %w[cleartext CLEARTEXT],
      %w[md5 MD5HASH], %w[sha1 SHA1HASH], %w[crypt CRYPT], %w[signature SIGNATURE],
      %w[nonexist NONEXIST], %w[exist EXIST], %w[invalid INVALID], %w[data DATA],
      %w[recovered RECOVERED], %w[passed PASSED], %w[succeeded SUCCEEDED], %w[else ELSE],
      %w[mmonit MMONIT], %w[url URL], %w[content CONTENT], %w[pid PID], %w[ppid PPID],
      %w[count COUNT], %w[reminder REMINDER], %w[instance INSTANCE], %w[hostname HOSTNAME],
      %w[username USERNAME], %w[password PASSWORD], %w[credentials CREDENTIALS],
      %w[register REGISTER], %w[fsflags? FSFLAG], %w[fips FIPS],
      %w[(?:byte|b) BYTE], %w[(?:kilobyte|kb) KILOBYTE], %w[(?:megabyte|mb) MEGABYTE],
      %w[(?:gigabyte|gb) GIGABYTE],
      ['load(?:avg)[ ]*(?:\([ ]*1[ ]*(?:min|m)?[ ]*\))?', 'LOADAVG1'],
      ['load(?:avg)[ ]*\([ ]*5[ ]*(?:min|m)?[ ]*\)', 'LOADAVG5'],
      ['load(?:avg)[ ]*\([ ]*15[ ]*(?:min|m)?[ ]*\)', 'LOADAVG15'],
      ['cpu[ ]*(?:usage)*[ ]*\([ ]*(?:user|usr|us)?[ ]*\)', 'CPUUSER'],
      ['cpu[ ]*(?:usage)*[ ]*\([ ]*(?:system|sys|sy)?[ ]*\)', 'CPUSYSTEM'],
      ['cpu[ ]*(?:usage)*[ ]*\([ ]*(?:wait|wa)?[ ]*\)', 'CPUWAIT'],
      %w[(?:greater|gt|>) GREATER], %w[(?:less|lt|<) LESS], %w[(?:equal|eq|==|=) EQUAL],
      %w[(?:notequal|ne|!=) NOTEQUAL]
    ].freeze

    # Rule tables per start condition: [pattern, action, argument]. Order matters (ties).
    RULES = {
      INITIAL: [
        [WWS, :skip],
        ['(?:#.*)?\\\\?\n', :skip], # comment to end of line; backslash-newline continues
        *NOISE.map { |word| [word, :skip] },
        # {startarg} {stoparg} {execarg}: `start program = "` opens a program argument list.
        ["start#{WS_OPT}(?:program)?#{WS_OPT}(?:=#{WS})?\"", :argument_start, :START],
        ["stop#{WS_OPT}(?:program)?#{WS_OPT}(?:=#{WS})?\"", :argument_start, :STOP],
        ["exec(?:ute)?#{WS_OPT}\"", :argument_start, :EXEC],
        *KEYWORDS.map { |pattern, token| [pattern, :token, token.to_sym] },
        ['include', :unsupported, "'include' statements"],
        ['depends?[ \t]+(?:on[ \t]*)?', :depends],
        ['check[ \t]+(?:process[ \t])?', :check, :CHECKPROC],
        ['check[ \t]+device', :check, :CHECKFILESYS],
        ['check[ \t]+filesystem', :check, :CHECKFILESYS],
        ['check[ \t]+file', :check, :CHECKFILE],
        ['check[ \t]+directory', :check, :CHECKDIR],
        ['check[ \t]+host', :check, :CHECKHOST],
        ['check[ \t]+system', :check, :CHECKSYSTEM],
        ['check[ \t]+fifo', :check, :CHECKFIFO],
        ['check[ \t]+status', :check, :CHECKSTATUS],
        ['group[ \t]+', :group],
        ['[a-zA-Z0-9]+://', :unsupported, "URLs ('if failed url ...')"],
        ['[0-9]+', :number],
        ['[0-9]+(?:[.][0-9]+)?', :real],
        ['(?:percent|%)', :token, :PERCENT],
        ["[a-zA-Z0-9]#{STR}", :token, :STRING],
        ['"/[^"\n]*"', :quoted, :PATH],
        ["'/[^'\\n]*'", :quoted, :PATH],
        ['"[^"]*"', :quoted, :STRING], # a double-quoted string may run over several lines
        ["'[^']*'", :quoted, :STRING],
        ["#{STR}@#{STR}", :token, :MAILADDR],
        ["/#{STR}", :token, :PATH],
        ['/', :token, :PATH],
        ["from:[ \\t]*#{STR}@#{STR}", :mail_header, :MAILFROM],
        ["reply-to:[ \\t]*#{STR}@#{STR}", :mail_header, :MAILREPLYTO],
        ['subject:[^}\n]*', :mail_header, :MAILSUBJECT],
        ['message:[^}]*', :mail_header, :MAILBODY],
        ["#{STR}(?:\\.#{STR})*", :token, :STRING], # {hostname}
        ['["\']', :unbalanced],
        ['.', :char]
      ],
      # After `check <type>`: the service name.
      SERVICE_COND: [
        [WS, :skip], ['\n', :skip],
        [STR, :name, :SERVICENAME], ["\"#{STR}\"", :name, :SERVICENAME], ["'#{STR}'", :name, :SERVICENAME],
        ['["\']', :unbalanced], ['.', :char]
      ],
      # After `depends on`: service names separated by , ; ( ) or white space, possibly over
      # several lines after a comma; white space followed by anything but a comma ends it.
      DEPEND_COND: [
        [WWS, :skip], ["#{WWS_OPT}\\n#{WWS_OPT}", :skip],
        [STR, :token, :SERVICENAME],
        ['[ \r\n\t]+[^,]', :depend_end],
        ['.', :char]
      ],
      # Inside `start program = "...`: words until the closing double quote -- which may be
      # lines away (or never come): 5.2.5 silently swallows everything up to it.
      ARGUMENT_COND: [
        [WS, :skip], ['\n', :skip], ['"', :argument_end],
        ["'[^']*'", :quoted, :STRING], ["'", :unbalanced],
        ['[^ \t\n"]+', :token, :STRING],
        ['.', :char]
      ],
      # After `group `: the group name.
      STRING_COND: [
        [STR, :name, :STRINGNAME], ["\"#{STR}\"", :name, :STRINGNAME], ["'#{STR}'", :name, :STRINGNAME],
        ['["\']', :unbalanced], ['.', :char]
      ]
    }.transform_values do |rules|
      rules.map { |pattern, action, arg| [Regexp.new(pattern, Regexp::IGNORECASE | Regexp::NOENCODING), action, arg] }
    end.freeze

    attr_reader :findings # [Finding, index of the next token when it was raised]

    def initialize(source)
      @source = source.b
      @findings = []
    end

    def tokens
      out = []
      scanner = StringScanner.new(@source)
      state = :INITIAL
      line = 1
      argument_line = nil
      until scanner.eos?
        length, action, arg = longest_match(scanner, state)
        if length.nil? # flex's default rule: echo the character, i.e. ignore it here
          line += 1 if scanner.getch == "\n"
          next
        end
        text = scanner.peek(length)
        emit = lambda do |type, value = text|
          value = printable(value) if value.is_a?(String)
          out << Token.new(type, value, line, printable(text))
        end
        case action
        when :skip then nil
        when :token then emit.call(arg)
        when :number then emit.call(:NUMBER, text.to_i)
        when :real then emit.call(:REAL, text.to_f)
        when :quoted then emit.call(arg, unquote(text))
        when :mail_header then emit.call(arg, text.sub(/\A[^:]*:/, '').strip)
        when :char then emit.call(:CHAR, text)
        when :unsupported then emit.call(:UNSUPPORTED, arg)
        when :unbalanced then note(out, :reject, line, 'unbalanced quotes')
        when :name
          emit.call(arg, unquote(text))
          state = :INITIAL
        when :check
          emit.call(arg)
          state = :SERVICE_COND
        when :group
          emit.call(:GROUP)
          state = :STRING_COND
        when :depends
          emit.call(:DEPENDS)
          state = :DEPEND_COND
        when :depend_end # the scanner puts the last character back (unput) and leaves
          length -= 1
          text = text[0, length]
          state = :INITIAL
        when :argument_start
          emit.call(arg)
          state = :ARGUMENT_COND
          argument_line = line
        when :argument_end
          state = :INITIAL
          if line != argument_line
            note(out, :warning, argument_line, "the quoted program string opened here only closes on line #{line}; " \
                                               '5.2.5 takes every word in between as program arguments (missing closing quote?)')
          end
        end
        scanner.pos += length
        line += text.count("\n")
      end
      if state == :ARGUMENT_COND
        note(out, :warning, argument_line, 'the quoted program string opened here is never closed; 5.2.5 silently takes ' \
                                           'the rest of the file as program arguments')
      end
      out << Token.new(:EOF, nil, line, 'end of file')
    end

    private

    def longest_match(scanner, state)
      best = nil
      RULES.fetch(state).each do |regex, action, arg|
        length = scanner.match?(regex)
        best = [length, action, arg] if length&.positive? && (best.nil? || length > best[0])
      end
      best
    end

    def note(out, kind, line, text)
      @findings << [Finding.new(kind, line, text), out.size]
    end

    # handle_quoted_string: strip the quotes, then the escapes \n \t \r "\ " \\ \0xHH.
    def unquote(text)
      quote = text[0]
      body = %w[" '].include?(quote) ? text[1..].split(quote, 2).first.to_s : text
      body.gsub(/\\(0x\h\h|.)/m) do
        escape = Regexp.last_match(1)
        case escape
        when 'n' then "\n"
        when 't' then "\t"
        when 'r' then "\r"
        when ' ' then ' '
        when '\\' then '\\'
        when /\A0x(\h\h)\z/ then Regexp.last_match(1) == '00' ? "\\#{escape}" : Regexp.last_match(1).hex.chr
        else "\\#{escape}"
        end
      end
    end

    def printable(text)
      text.dup.force_encoding(Encoding::UTF_8).scrub('?')
    end
  end

  # ----------------------------------------------------------------------- regular expressions --
  # 5.2.5 compiles `matching`, `match` and `expect` patterns with POSIX regcomp(REG_EXTENDED |
  # REG_NOSUB) while parsing, and rejects the file if that fails. We call the C library's
  # regcomp (glibc, as on the stemcell); without Fiddle we fall back to Ruby's Regexp.
  module PosixRegex
    REG_EXTENDED = 1
    REG_NOSUB = 8

    def self.error_for(pattern)
      return ruby_error_for(pattern) unless functions

      regcomp, regerror, regfree = functions
      regex = Fiddle::Pointer.malloc(256) # sizeof(regex_t) is 64 on x86_64 glibc
      status = regcomp.call(regex, pattern, REG_EXTENDED | REG_NOSUB)
      return regfree.call(regex) && nil if status.zero?

      buffer = Fiddle::Pointer.malloc(256)
      regerror.call(status, regex, buffer, 256)
      buffer.to_s
    end

    def self.functions
      return @functions if defined?(@functions)

      @functions = begin
        require 'fiddle'
        libc = Fiddle.dlopen(nil)
        pointer = Fiddle::TYPE_VOIDP
        [Fiddle::Function.new(libc['regcomp'], [pointer, pointer, Fiddle::TYPE_INT], Fiddle::TYPE_INT),
         Fiddle::Function.new(libc['regerror'], [Fiddle::TYPE_INT, pointer, pointer, Fiddle::TYPE_SIZE_T], Fiddle::TYPE_SIZE_T),
         Fiddle::Function.new(libc['regfree'], [pointer], Fiddle::TYPE_VOID)]
      rescue LoadError, Fiddle::DLError
        nil
      end
    end

    def self.ruby_error_for(pattern)
      return 'Perl-style (?...) groups are not POSIX' if pattern.include?('(?')

      Regexp.new(pattern)
      nil
    rescue RegexpError => e
      e.message
    end
  end

  # ----------------------------------------------------------------------------------- parser --
  # Recursive descent over the grammar's rules for service entries. Rule names in comments are
  # the grammar's. Statements a job file should not contain (`set ...`, `include`) are refused
  # as unsupported rather than parsed.
  class Parser
    # Rules opt<type>: what may follow each `check <type>` statement.
    OPTIONS = {
      process: %i[start stop exist pid ppid connection connectionunix actionrate alert every mode group
                  depend resourceprocess],
      file: %i[start stop exist timestamp actionrate every alert permission uid gid checksum size match mode
               group depend],
      filesystem: %i[start stop exist actionrate every alert permission uid gid mode group depend inode space
                     fsflag],
      directory: %i[start stop exist timestamp actionrate every alert permission uid gid mode group depend],
      host: %i[start stop exist connection icmp actionrate alert every mode group depend],
      system: %i[start stop actionrate alert every group depend resourcesystem],
      fifo: %i[start stop exist timestamp actionrate every alert permission uid gid mode group depend]
    }.freeze

    SERVICE_TYPES = { CHECKPROC: :process, CHECKFILE: :file, CHECKFILESYS: :filesystem, CHECKDIR: :directory,
                      CHECKHOST: :host, CHECKSYSTEM: :system, CHECKFIFO: :fifo }.freeze

    OPERATORS = %i[GREATER LESS EQUAL NOTEQUAL CHANGED].freeze
    UNITS = %i[BYTE KILOBYTE MEGABYTE GIGABYTE].freeze
    ACTIONS = %i[ALERT EXEC RESTART START STOP UNMONITOR].freeze
    EVENTS = %i[ACTION CHECKSUM CONNECTION CONTENT DATA EXEC FSFLAG GID ICMP INSTANCE INVALID NONEXIST
                PERMISSION PID PPID RESOURCE SIZE TIMEOUT TIMESTAMP UID].freeze
    PROCESS_RESOURCES = %i[CPU TOTALCPU MEMORY TOTALMEMORY CHILDREN LOADAVG1 LOADAVG5 LOADAVG15].freeze
    SYSTEM_RESOURCES = %i[LOADAVG1 LOADAVG5 LOADAVG15 MEMORY TOTALMEMORY SWAP CPUUSER CPUSYSTEM CPUWAIT].freeze
    SIMPLE_PROTOCOLS = %i[DEFAULT DNS DWP FTP IMAP CLAMAV LDAP2 LDAP3 MYSQL NNTP NTP3 POSTFIXPOLICY POP SMTP
                          SSH RDATE RSYNC TNS PGSQL LMTP GPS MEMCACHE].freeze
    APACHE_LIMITS = %i[LOGLIMIT CLOSELIMIT DNSLIMIT KEEPALIVELIMIT REPLYLIMIT REQUESTLIMIT STARTLIMIT WAITLIMIT
                       GRACEFULLIMIT CLEANUPLIMIT].freeze
    BITMAP_MAX = 64 # cycles a rate may span: bits in a long long
    ARGMAX = 64     # a program may have at most ARGMAX - 1 words
    STEMCELL_USERS = %w[root vcap 0].freeze

    attr_reader :findings, :aborted_at

    def initialize(tokens)
      @tokens = tokens
      @pos = 0
      @findings = []
      @services = {}
      @aborted_at = nil
    end

    # Rules cfgfile / statement_list / statement.
    def parse
      until peek.type == :EOF
        case peek.type
        when *SERVICE_TYPES.keys then service
        when :CHECKSTATUS then unsupported(peek, "'check status' (present in 5.2.5's grammar but undocumented)")
        when :SET then unsupported(peek, "'set ...' statements (global settings belong to the stemcell's monitrc)")
        when :UNSUPPORTED then unsupported(peek, peek.value)
        else
          expected = "a 'check ...' statement"
          expected = "a test of service '#{@service[:name].value}' or #{expected}" if @service
          syntax_error(peek, expected)
        end
      end
    rescue Abort
      nil
    end

    private

    # --- token helpers
    def peek(offset = 0)
      @tokens[[@pos + offset, @tokens.size - 1].min]
    end

    def advance
      token = peek
      @pos += 1 unless token.type == :EOF
      token
    end

    def at?(*types)
      types.include?(peek.type)
    end

    def accept(*types)
      advance if at?(*types)
    end

    def expect(*types, what)
      return advance if at?(*types)

      unsupported(peek, peek.value) if peek.type == :UNSUPPORTED
      syntax_error(peek, what)
    end

    def char?(char)
      peek.type == :CHAR && peek.value == char
    end

    def expect_char(char)
      return advance if char?(char)

      syntax_error(peek, "'#{char}'")
    end

    # --- findings
    def reject(token, text)
      @findings << Finding.new(:reject, token.line, text)
    end

    def warn(token, text)
      @findings << Finding.new(:warning, token.line, text)
    end

    def unsupported(token, text)
      @findings << Finding.new(:unsupported, token.line, "#{text} (fail closed: 5.2.5 may accept it)")
      stop_at(token)
    end

    def syntax_error(token, expected)
      where = token.type == :EOF ? 'at end of file' : "at '#{token.text}'"
      text = "syntax error #{where} (expected #{expected})"
      hint = hint_for(token)
      text += "; #{hint}" if hint
      @findings << Finding.new(:reject, token.line, text)
      stop_at(token)
    end

    def stop_at(token)
      @aborted_at = index_of(token)
      raise Abort
    end

    def index_of(token)
      @tokens.index { |candidate| candidate.equal?(token) } || @pos
    end

    # Known newer-monit constructs, explained.
    def hint_for(token)
      index = index_of(token)
      previous = index.positive? ? @tokens[index - 1] : nil
      word = token.text.to_s.downcase
      if previous&.type == :SERVICENAME && previous.value.casecmp?('program') && @tokens[index - 2]&.type == :CHECKPROC
        return "'check program' does not exist in 5.2.5 (it lexes as 'check process' named \"program\")"
      end
      return "cron-style 'every \"...\"' does not exist in 5.2.5, only 'every N cycles'" if previous&.type == :EVERY
      return "'restart program' does not exist in 5.2.5, only 'start program' and 'stop program'" if token.type == :RESTART
      if previous&.type == :SERVICENAME && @tokens[0...index].reverse.find { |t| t.type != :SERVICENAME }&.type == :DEPENDS
        return "in 5.2.5 the services after 'depends on' must be separated by commas"
      end
      if %i[UID GID].include?(token.type) && previous&.type == :SECOND
        return "in 5.2.5 'as uid/gid' must come before 'with timeout N seconds'"
      end
      if %i[START STOP].include?(previous&.type) && token.type == :EQUAL
        return "5.2.5 wants 'start program = \"...\"': a double-quoted string, white space after '='"
      end

      case word
      when 'status' then "'if status ...' (the exit status of a 'check program') does not exist in 5.2.5"
      when 'uptime' then "the 'uptime' test does not exist in 5.2.5"
      when 'threads' then "the 'threads' test does not exist in 5.2.5"
      when /\A[<>=!]+./ then 'in 5.2.5 an operator must be separated by white space from what follows it'
      when /\A\d+(\.\d+)?[a-z%]+\z/ then 'in 5.2.5 a number must be separated by white space from its unit'
      else "'#{token.text}' is not a monit 5.2.5 keyword" if token.type == :STRING && word.match?(/\A[a-z][a-z-]*\z/)
      end
    end

    # --- services
    # Rules checkproc / checkfile / checkfilesys / checkdir / checkhost / checksystem / checkfifo,
    # each followed by its opt<type>list.
    def service
      type = SERVICE_TYPES.fetch(advance.type)
      name = expect(:SERVICENAME, 'a service name')
      check_name(name)
      case type
      when :process then process_target
      when :host
        expect(:ADDRESS, "'address'")
        expect(:STRING, 'a host name or address')
      when :system then nil
      else
        expect(:PATHTOK, "'path'")
        expect(:PATH, 'an absolute path')
      end
      @service = { type: type, name: name, tests: 0 }
      options = 0
      while (kind = option_kind)
        send(kind)
        options += 1
      end
      return unless type == :host

      # Rule opthostlist needs at least one entry; postparse() needs a port or icmp test.
      syntax_error(peek, "a test for 'check host'") if options.zero?
      reject(name, "'check host' needs a port or icmp test") if @service[:tests].zero?
    end

    # Rule checkproc: PIDFILE PATH | PATHTOK PATH | MATCH STRING | MATCH PATH.
    def process_target
      if accept(:PIDFILE, :PATHTOK)
        expect(:PATH, 'an absolute path')
      elsif accept(:MATCH)
        regex(expect(:STRING, :PATH, 'a regular expression'))
      else
        syntax_error(peek, "'pidfile PATH', 'path PATH' or 'matching REGEX'")
      end
    end

    # check_name(): unique (case-insensitively) and not starting with '/'.
    def check_name(token)
      key = token.value.downcase
      reject(token, "service name conflict, #{token.value} already defined") if @services.key?(key)
      reject(token, "service name '#{token.value}' must not start with '/'") if token.value.start_with?('/')
      @services[key] = token
    end

    # Which opt<type> rule the next tokens start, or nil when the option list ends. A rule the
    # grammar has, but not for this service type, is a syntax error at the deciding token.
    def option_kind
      kind, decider = classify
      return nil unless kind
      return kind if OPTIONS.fetch(@service[:type]).include?(kind)

      syntax_error(decider, "a test allowed in 'check #{@service[:type]}'")
    end

    def classify
      token = peek
      case token.type
      when :START then [:start, token]
      when :STOP then [:stop, token]
      when :ALERT, :NOALERT then [:alert, token]
      when :EVERY then [:every, token]
      when :MODE then [:mode, token]
      when :GROUP then [:group, token]
      when :DEPENDS then [:depend, token]
      when :IGNORE then [:match, token]
      when :IF then classify_if
      end
    end

    def classify_if
      first = peek(1)
      second = peek(2)
      kind =
        case first.type
        when :NOT then { EXIST: :exist, MATCH: :match }[second.type] || syntax_error(second, "'exist' or 'match'")
        when :MATCH then :match
        when :CHANGED
          { PID: :pid, PPID: :ppid, TIMESTAMP: :timestamp, SIZE: :size, FSFLAG: :fsflag, CHECKSUM: :checksum,
            MD5HASH: :checksum, SHA1HASH: :checksum }[second.type] ||
            syntax_error(second, "'pid', 'ppid', 'timestamp', 'size', 'fsflag' or 'checksum'")
        when :FAILED
          { HOST: :connection, PORT: :connection, URL: :connection, UNIXSOCKET: :connectionunix, ICMP: :icmp,
            PERMISSION: :permission, UID: :uid, GID: :gid, CHECKSUM: :checksum, MD5HASH: :checksum,
            SHA1HASH: :checksum }[second.type] ||
            syntax_error(second, "'port', 'host', 'unixsocket', 'icmp', 'permission', 'uid', 'gid' or 'checksum'")
        when :NUMBER then :actionrate
        when :CPU, :TOTALCPU, :CHILDREN then :resourceprocess
        when :MEMORY, :TOTALMEMORY, :LOADAVG1, :LOADAVG5, :LOADAVG15
          @service[:type] == :system ? :resourcesystem : :resourceprocess
        when :SWAP, :CPUUSER, :CPUSYSTEM, :CPUWAIT then :resourcesystem
        when :TIMESTAMP then :timestamp
        when :SIZE then :size
        when :INODE then :inode
        when :SPACE then :space
        else syntax_error(first, 'a test after \'if\'')
        end
      [kind, %i[NOT CHANGED FAILED].include?(first.type) ? second : first]
    end

    # --- options shared by all service types
    # Rules start / stop: START argumentlist [useroptionlist] exectimeout.
    def start
      keyword = advance
      argumentlist(keyword)
      useroptionlist
      timeout
    end
    alias stop start

    # Rule argumentlist: one or more STRING or PATH words.
    def argumentlist(keyword)
      words = []
      words << advance while at?(:STRING, :PATH)
      syntax_error(peek, "the program to run after '#{keyword.text.strip}'") if words.empty?
      reject(words[ARGMAX - 1], 'exceeded maximum number of program arguments') if words.size >= ARGMAX
      return if words.first.value.start_with?('/')

      warn(words.first, "program '#{words.first.value}' is not an absolute path; 5.2.5 only warns " \
                        '("the executable does not exist") and the command fails when run')
    end

    # Rule useroptionlist / useroption: UID STRING|NUMBER, GID STRING|NUMBER.
    def useroptionlist
      while (keyword = accept(:UID, :GID))
        who = expect(:STRING, :NUMBER, 'a user/group name or number')
        next if STEMCELL_USERS.include?(who.value.to_s)

        warn(who, "5.2.5 looks up #{keyword.text.downcase} '#{who.value}' while parsing and rejects the whole " \
                  'file if it does not exist on the VM at that moment')
      end
    end

    # Rules exectimeout / nettimeout: [TIMEOUT NUMBER SECOND].
    def timeout
      return unless accept(:TIMEOUT)

      expect(:NUMBER, 'a number of seconds')
      expect(:SECOND, "'seconds'")
    end

    # Rule every: EVERY NUMBER CYCLE (check_every: the number must be greater than 1).
    def every
      advance
      number = expect(:NUMBER, 'a number of cycles')
      expect(:CYCLE, "'cycles'")
      reject(number, 'an EVERY statement must have a value greater than 1') if number.value <= 1
    end

    # Rule mode: MODE ACTIVE|PASSIVE|MANUAL.
    def mode
      advance
      expect(:ACTIVE, :PASSIVE, :MANUAL, "'active', 'passive' or 'manual'")
    end

    # Rule group: GROUP STRINGNAME.
    def group
      advance
      expect(:STRINGNAME, 'a group name')
    end

    # Rules depend / dependlist: DEPENDS SERVICENAME... (whether the services exist is decided
    # over the whole monitrc, i.e. across jobs: not checked here).
    def depend
      advance
      expect(:SERVICENAME, 'a service name')
      advance while at?(:SERVICENAME)
    end

    # Rules alert / noalertmail / alertmail, eventoptionlist, formatlist, reminder.
    def alert
      if accept(:NOALERT)
        expect(:MAILADDR, 'a mail address')
        return
      end
      advance
      expect(:MAILADDR, 'a mail address')
      if char?('{') || accept(:NOT)
        expect_char('{')
        expect(*EVENTS, 'an event name')
        advance while at?(*EVENTS)
        expect_char('}')
      end
      if accept(:MAILFORMAT)
        expect_char('{')
        expect(:MAILFROM, :MAILREPLYTO, :MAILSUBJECT, :MAILBODY, "'from:', 'reply-to:', 'subject:' or 'message:'")
        advance while at?(:MAILFROM, :MAILREPLYTO, :MAILSUBJECT, :MAILBODY)
        expect_char('}')
      end
      return unless accept(:REMINDER)

      expect(:NUMBER, 'a number')
      accept(:CYCLE)
    end

    # Rule actionrate: IF NUMBER RESTART NUMBER CYCLE THEN action1 | ... THEN TIMEOUT
    # (addactionrate: 0 < restarts <= cycles).
    def actionrate
      advance
      count = expect(:NUMBER, 'a number')
      expect(:RESTART, "'restarts'")
      cycles = expect(:NUMBER, 'a number of cycles')
      expect(:CYCLE, "'cycles'")
      expect(:THEN, "'then'")
      accept(:TIMEOUT) || action
      reject(count, 'the number of restarts must be less than poll cycles') if count.value > cycles.value
      return unless count.value <= 0 || cycles.value <= 0

      reject(count, 'zero or negative values not allowed in a action rate statement')
    end

    # --- the common tail of tests
    # Rules rate1 / rate2: [NUMBER CYCLE | NUMBER NUMBER CYCLE].
    def rate
      return unless at?(:NUMBER)

      count = advance
      cycles = accept(:NUMBER) || count
      expect(:CYCLE, "'cycles'")
      unless (1..BITMAP_MAX).cover?(cycles.value)
        reject(cycles, "the number of cycles must be between 1 and #{BITMAP_MAX}")
      end
      return if count.equal?(cycles) || (1..cycles.value).cover?(count.value)

      reject(count, 'the number of events must be bigger then 0 and less than poll cycles')
    end

    # Rules action / action1 / action2.
    def action
      verb = expect(*ACTIONS, "an action ('alert', 'restart', 'start', 'stop', 'unmonitor' or 'exec')")
      return unless verb.type == :EXEC

      argumentlist(verb)
      useroptionlist
    end

    # Rule recovery: [ELSE IF RECOVERED|PASSED|SUCCEEDED rate2 THEN action2].
    def recovery
      return unless accept(:ELSE)

      expect(:IF, "'if'")
      expect(:RECOVERED, :PASSED, :SUCCEEDED, "'recovered', 'passed' or 'succeeded'")
      rate
      expect(:THEN, "'then'")
      action
    end

    # `rate1 THEN action1`, optionally followed by recovery.
    def then_action(with_recovery: true)
      rate
      expect(:THEN, "'then'")
      action
      recovery if with_recovery
    end

    # Rule operator: [GREATER | LESS | EQUAL | NOTEQUAL | CHANGED].
    def operator
      accept(*OPERATORS)
    end

    # Rule value: REAL | NUMBER.
    def value
      expect(:REAL, :NUMBER, 'a number')
    end

    # --- process and host tests
    # Rule exist: IF NOT EXIST rate1 THEN action1 recovery.
    def exist
      3.times { advance }
      then_action
    end

    # Rules pid / ppid: IF CHANGED PID|PPID rate1 THEN action1.
    def pid
      3.times { advance }
      then_action(with_recovery: false)
    end
    alias ppid pid

    # Rule connection: IF FAILED host port type protocol nettimeout rate1 THEN action1 recovery.
    def connection
      2.times { advance }
      unsupported(peek, "'if failed url ...'") if at?(:URL)
      expect(:STRING, 'a host name') if accept(:HOST)
      expect(:PORT, "'port'")
      expect(:NUMBER, 'a port number')
      socket_tail
    end

    # Rule connectionunix: IF FAILED unixsocket type protocol nettimeout rate1 THEN ...
    def connectionunix
      3.times { advance }
      expect(:PATH, 'the absolute path of a unix socket')
      socket_tail
    end

    def socket_tail
      socket_type
      protocol
      timeout
      then_action
      @service[:tests] += 1
    end

    # Rule type: [TYPE TCP | TYPE UDP | TYPE TCPSSL sslversion certmd5].
    def socket_type
      return unless accept(:TYPE)

      kind = expect(:TCP, :UDP, :TCPSSL, "'tcp', 'udp' or 'tcpssl'")
      unsupported(kind, "'type tcpssl' (depends on whether the stemcell's monit was built with SSL)") if kind.type == :TCPSSL
    end

    # Rule protocol (with request, target, maxforward, secret, apache_stat_list, sendexpectlist).
    def protocol
      if accept(:PROTOCOL)
        name = expect(*SIMPLE_PROTOCOLS, :HTTP, :SIP, :RADIUS, :APACHESTATUS, 'a protocol name known to 5.2.5')
        case name.type
        when :HTTP then http_request
        when :SIP
          expect(:MAILADDR, :STRING, 'a SIP target') if accept(:TARGET)
          if accept(:MAXFORWARD)
            hops = expect(:NUMBER, 'a number')
            warn(hops, 'SIP max forward is outside the range [0..255]; 5.2.5 uses 70') unless (0..255).cover?(hops.value)
          end
        when :RADIUS
          expect(:SECRET, "'secret'")
          expect(:STRING, 'the secret')
        when :APACHESTATUS
          loop do
            expect(*APACHE_LIMITS, 'an apache-status limit')
            operator
            expect(:NUMBER, 'a number')
            expect(:PERCENT, "'%'")
            break unless accept(:OR)
          end
        end
      else
        while (keyword = accept(:SEND, :EXPECT))
          text = expect(:STRING, 'a quoted string')
          regex(text) if keyword.type == :EXPECT
        end
      end
    end

    # Rules request / hostheader: [REQUEST PATH [CHECKSUM STRING] [HOSTHEADER STRING]].
    def http_request
      return unless accept(:REQUEST)

      expect(:PATH, 'the request path')
      if accept(:CHECKSUM)
        sum = expect(:STRING, 'a checksum')
        reject(sum, "invalid checksum [#{sum.value}]") unless [32, 40].include?(hex_length(sum.value))
      end
      expect(:STRING, 'a host header') if accept(:HOSTHEADER)
    end

    # Rule icmp: IF FAILED ICMP TYPE ICMPECHO [COUNT NUMBER] nettimeout rate1 THEN ...
    def icmp
      3.times { advance }
      expect(:TYPE, "'type'")
      expect(:ICMPECHO, "'echo'")
      expect(:NUMBER, 'a number') if accept(:COUNT)
      timeout
      then_action
      @service[:tests] += 1
    end

    # Rules resourceprocess / resourcesystem: IF resource... rate1 THEN action1 recovery.
    def resourceprocess
      resource_test(PROCESS_RESOURCES)
    end

    def resourcesystem
      resource_test(SYSTEM_RESOURCES)
    end

    def resource_test(allowed)
      advance
      resource while at?(*allowed)
      then_action
    end

    # Rules resourcecpuproc / resourcecpu / resourcemem / resourceswap / resourcechild /
    # resourceload.
    def resource
      kind = advance.type
      operator
      case kind
      when :CPU, :TOTALCPU, :CPUUSER, :CPUSYSTEM, :CPUWAIT
        expect(:NUMBER, 'a whole number')
        expect(:PERCENT, "'%'")
      when :MEMORY, :TOTALMEMORY, :SWAP # percentage (whole numbers only) or an amount
        if at?(:NUMBER) && peek(1).type == :PERCENT
          2.times { advance }
        else
          value
          accept(*UNITS)
        end
      when :CHILDREN then expect(:NUMBER, 'a number')
      else value # loadavg
      end
    end

    # --- file, directory, fifo and filesystem tests
    # Rule timestamp: IF TIMESTAMP operator NUMBER time rate1 THEN action1 recovery
    #               | IF CHANGED TIMESTAMP rate1 THEN action1.
    def timestamp
      advance
      if accept(:CHANGED)
        advance
        return then_action(with_recovery: false)
      end
      advance
      operator
      expect(:NUMBER, 'a number')
      accept(:SECOND, :MINUTE, :HOUR, :DAY)
      then_action
    end

    # Rule size: IF SIZE operator NUMBER unit rate1 THEN action1 recovery
    #          | IF CHANGED SIZE rate1 THEN action1.
    def size
      advance
      if accept(:CHANGED)
        advance
        return then_action(with_recovery: false)
      end
      advance
      operator
      expect(:NUMBER, 'a whole number')
      accept(*UNITS)
      then_action
    end

    # Rule checksum: IF FAILED hashtype CHECKSUM EXPECT STRING rate1 THEN action1 recovery
    #              | IF CHANGED hashtype CHECKSUM rate1 THEN action1
    #              | IF FAILED hashtype CHECKSUM rate1 ... (refused: hashes the file while parsing).
    def checksum
      advance
      changed = advance.type == :CHANGED
      hash = accept(:MD5HASH, :SHA1HASH)
      keyword = expect(:CHECKSUM, "'checksum'")
      return then_action(with_recovery: false) if changed
      unless accept(:EXPECT)
        unsupported(keyword, "'if failed checksum' without 'expect' (5.2.5 hashes the file while parsing " \
                             'and rejects the file if it is missing)')
      end
      sum = expect(:STRING, 'the expected checksum')
      wanted = { MD5HASH: [32], SHA1HASH: [40] }.fetch(hash&.type, [32, 40])
      reject(sum, "invalid checksum [#{sum.value}]") unless wanted.include?(hex_length(sum.value))
      then_action
    end

    # Rule match: IF [NOT] MATCH STRING rate1 THEN action1 | IGNORE [NOT] MATCH STRING
    # (MATCH PATH reads patterns from a file while parsing: refused).
    def match
      ignore = advance.type == :IGNORE
      accept(:NOT)
      expect(:MATCH, "'match'")
      unsupported(peek, "'match PATH' (5.2.5 reads the patterns from that file while parsing)") if at?(:PATH)
      regex(expect(:STRING, 'a quoted regular expression'))
      then_action(with_recovery: false) unless ignore
    end

    # Rule permission: IF FAILED PERMISSION NUMBER rate1 THEN action1 recovery (check_perm).
    def permission
      3.times { advance }
      mode = expect(:NUMBER, 'an octal number')
      unless mode.value.to_s.match?(/\A[0-7]+\z/) && mode.value.to_s.to_i(8) <= 0o7777
        reject(mode, 'permission statements must have an octal value between 0 and 7777')
      end
      then_action
    end

    # Rules uid / gid: IF FAILED UID|GID STRING|NUMBER rate1 THEN action1 recovery.
    def uid
      2.times { advance }
      keyword = advance
      who = expect(:STRING, :NUMBER, 'a name or number')
      unless STEMCELL_USERS.include?(who.value.to_s)
        warn(who, "5.2.5 looks up #{keyword.text.downcase} '#{who.value}' while parsing and rejects the whole " \
                  'file if it does not exist on the VM at that moment')
      end
      then_action
    end
    alias gid uid

    # Rule inode: IF INODE operator NUMBER [PERCENT] rate1 THEN action1 recovery.
    def inode
      2.times { advance }
      operator
      expect(:NUMBER, 'a whole number')
      accept(:PERCENT)
      then_action
    end

    # Rule space: IF SPACE operator NUMBER PERCENT rate1 THEN ... (the absolute form reads the
    # filesystem's block size while parsing: refused).
    def space
      2.times { advance }
      operator
      unless at?(:NUMBER) && peek(1).type == :PERCENT
        unsupported(peek, "'if space' with an absolute amount (5.2.5 reads the filesystem while parsing)")
      end
      2.times { advance }
      then_action
    end

    # Rule fsflag: IF CHANGED FSFLAG rate1 THEN action1.
    def fsflag
      3.times { advance }
      then_action(with_recovery: false)
    end

    # --- semantic helpers
    # addmatch()/addgeneric(): the pattern must compile with POSIX regcomp(REG_EXTENDED).
    def regex(token)
      error = PosixRegex.error_for(token.value)
      reject(token, "regex parsing error: #{error}") if error
    end

    # cleanup_hash_string(): the number of hex digits.
    def hex_length(text)
      text.count('0-9a-fA-F')
    end
  end

  # Checks one file's text; returns [Finding].
  def self.check(source)
    lexer = Lexer.new(source)
    tokens = lexer.tokens
    parser = Parser.new(tokens)
    parser.parse
    # Lexing is lazy in monit: a scanner finding after the token where parsing stopped never happens.
    stop = parser.aborted_at
    scanned = lexer.findings.reject { |_finding, index| stop && index > stop }.map(&:first)
    (scanned + parser.findings).each_with_index.sort_by { |finding, order| [finding.line, order] }.map(&:first)
  end

  LABELS = { reject: 'monit 5.2.5 would reject', unsupported: 'not supported by this checker',
             warning: 'warning' }.freeze

  USAGE = "usage: ruby #{File.basename(__FILE__)} FILE...  " \
          "(checks monit control files against monit 5.2.5's grammar)"

  def self.main(argv, err = $stderr)
    if argv.intersect?(%w[-h --help])
      err.puts USAGE
      return 0
    end
    option = argv.find { |arg| arg.start_with?('-') && arg != '-' }
    if argv.empty? || option
      err.puts("#{File.basename(__FILE__)}: unknown option #{option}") if option
      err.puts USAGE
      return 2
    end
    sources = argv.to_h do |path|
      [path, File.binread(path)]
    rescue SystemCallError => e
      err.puts "#{File.basename(__FILE__)}: cannot read #{path}: #{e.message}"
      return 2
    end
    failed = false
    sources.each do |path, source|
      check(source).each do |finding|
        failed ||= finding.kind != :warning
        err.puts "#{path}:#{finding.line}: #{LABELS.fetch(finding.kind)}: #{finding.text}"
      end
    end
    failed ? 1 : 0
  end
end

exit Monit525.main(ARGV) if $PROGRAM_NAME == __FILE__
